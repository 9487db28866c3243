"""`domainlm index build|update|query|quality`: the retrieval index of a project."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console

index_app = typer.Typer(help="Build, update and query the retrieval index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _inputs(config, set_):
    from domainlm.catalog import load_catalog
    from domainlm.cli.app import load
    from domainlm.knowledge import load_knowledge

    project = load(config, set_)
    catalog = load_catalog(project.catalog, project.root)
    sections = load_knowledge(project.knowledge, project.root)
    return project, catalog, sections


class _Bars:
    """Rich progress bars, one per stage, fed by the retrieval `progress(stage, done, total)` callback."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=console, transient=False)
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1))
        self.progress.update(self.tasks[stage], completed=done, total=max(total, 1))


def _summary(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in rows:
        table.add_row(key, value)
    return table


@index_app.command("build")
def build(config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """Index every product and knowledge section from scratch (written aside, then swapped in)."""
    from domainlm.retrieval import build_index

    project, catalog, sections = _inputs(config, set_)
    with _Bars() as bars:
        info = build_index(project, catalog, sections, progress=bars)
    console.print(_summary("Index built", [
        ("products", f"{info.products:,}"), ("passages", f"{info.passages:,}"), ("catalog version", info.catalog_version),
        ("store", info.store), ("embedder", info.embedder), ("size", f"{info.bytes / 1e6:.1f} MB"),
        ("time", f"{info.seconds:.1f} s"), ("path", str(info.path)),
    ]))


@index_app.command("update")
def update(config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """Apply added, changed and deleted products without a rebuild; price-only changes are not re-embedded."""
    from domainlm.retrieval import update_index

    project, catalog, sections = _inputs(config, set_)
    with _Bars() as bars:
        stats = update_index(project, catalog, sections, progress=bars)
    if stats.current:
        console.print(f"Index is current (catalog version {stats.catalog_version}, "
                      f"{stats.unchanged} products); nothing written.")
        return
    console.print(_summary("Index updated", [
        ("added", str(stats.added)), ("changed (re-embedded)", str(stats.changed)),
        ("price/stock only", str(stats.volatile)), ("deleted", str(stats.deleted)), ("unchanged", str(stats.unchanged)),
        ("texts embedded", str(stats.embedded)), ("passages embedded", str(stats.passages_embedded)),
        ("catalog version", stats.catalog_version), ("time", f"{stats.seconds:.1f} s"),
    ]))


@index_app.command("query")
def query(
    text: Annotated[str, typer.Argument(help="The question, e.g. 'a dry red under $20 from Spain'.")],
    config: ConfigOption = DEFAULT_CONFIG,
    set_: SetOption = None,
    top_k: Annotated[Optional[int], typer.Option("--top-k", "-k", help="Products to show.")] = None,
) -> None:
    """Search the index as serving does and show the products, filters and passages it returns."""
    from domainlm.prompt import format_price, render_stock
    from domainlm.retrieval import Retriever

    project, catalog, sections = _inputs(config, set_)
    retriever = Retriever.open(project, catalog=catalog, sections=sections)
    res = retriever.search(text, top_k=top_k)
    table = Table(title=f"{text!r}  (filters: {res.filters.describe()})")
    for column in ("#", "id", "name", "price", "category", "stock", "score"):
        table.add_column(column)
    for i, (p, score) in enumerate(zip(res.products, res.scores), 1):
        marker = " (named)" if res.named is not None and p.id == res.named.id else ""
        table.add_row(str(i), p.id, p.name + marker, format_price(p.price, p.currency), p.category or "",
                      render_stock(p) or "", f"{score:.4f}")
    console.print(table)
    for s, score in zip(res.passages, res.passage_scores):
        console.print(f"[bold]passage[/] [{s.id}] {s.title} ({score:.4f})")


@index_app.command("quality")
def quality(config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None,
            seed: Annotated[int, typer.Option(help="Seed for the generated queries.")] = 0) -> None:
    """Generated query set (names, typos, partial names, ids, attributes, filters) with recall@1 / recall@10."""
    from domainlm.retrieval import Retriever
    from domainlm.retrieval.quality import evaluate, generate_queries

    project, catalog, sections = _inputs(config, set_)
    retriever = Retriever.open(project, catalog=catalog, sections=sections)
    report = evaluate(retriever, generate_queries(catalog, seed=seed))
    console.print(report.table())
