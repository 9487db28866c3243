"""`domainlm data build` and `domainlm data check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console, exit_with

data_app = typer.Typer(help="Build training data from the catalog, or check a dataset you bring.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("build")
def build(config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """Catalog + knowledge + brand -> data/{train,val,test,golden,dpo}.jsonl, report.md, review_sample.csv."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from domainlm.cli.app import load
    from domainlm.config import KINDS
    from domainlm.data import build_dataset

    project = load(config, set_)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bars:

        def progress(stage: str, total: int):
            task = bars.add_task(stage, total=total)
            return lambda n: bars.advance(task, n)

        result = build_dataset(project, progress=progress, log=lambda line: bars.console.print(line, highlight=False))
    counts = result.counts()
    table = Table(title=f"Dataset written to {result.out_dir}")
    for column in ("kind", "train", "val", "test", "total"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    for kind in KINDS:
        row = [counts[s][kind] for s in ("train", "val", "test")]
        if sum(row):
            table.add_row(kind, *map(str, row), str(sum(row)))
    totals = [sum(counts[s].values()) for s in ("train", "val", "test")]
    table.add_row("[bold]all[/]", *map(str, totals), f"[bold]{sum(totals)}[/]")
    console.print(table)
    dropped = sum(result.clean.dropped.values())
    console.print(f"golden {len(result.golden)}, DPO pairs {result.dpo_pairs}, dropped by cleaning {dropped} "
                  f"({', '.join(f'{k}: {v}' for k, v in sorted(result.clean.dropped.items())) or 'none'})")
    if result.teacher is not None:
        t = result.teacher
        console.print(f"teacher: {t.accepted} accepted, {t.rejected_total} rejected, {t.cached} from cache")
        if t.stopped:
            console.print(f"[yellow]teacher stopped early:[/] {t.stopped}")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"report: {result.files['report']}  ({time.perf_counter() - started:.1f}s)")
    if not result.samples:
        console.print("[red]no samples were written[/]; see the notes above and the report.")
        exit_with(1)


@data_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A JSONL dataset: messages, sharegpt or alpaca shape.")],
    to: Annotated[Optional[Path], typer.Option("--to", help="Write the valid samples in the messages shape here.")] = None,
    tokenizer: Annotated[str, typer.Option(help="Base model whose chat template and length limit apply.")] = "smollm2-135m",
    max_seq_len: Annotated[int, typer.Option(help="Longest sample in tokens.")] = 512,
    no_tokenizer: Annotated[bool, typer.Option("--no-tokenizer", help="Skip the chat-template and length checks.")] = False,
) -> None:
    """Validate a dataset you bring (shapes, duplicates, empty or over-long samples, end-of-turn); exits 1 on problems."""
    from domainlm.data.check import check_file, write_converted
    from domainlm.errors import DomainlmError

    if not file.exists():
        raise DomainlmError(f"{file}: no such file.")
    tok = None
    if not no_tokenizer:
        from domainlm.models.base import load_tokenizer

        tok = load_tokenizer(tokenizer)
    result = check_file(file, tok, max_seq_len)
    table = Table(title=f"{file}: {result.lines} lines")
    table.add_column("check")
    table.add_column("result")
    shapes = ", ".join(f"{s} {n} (first on line {result.first_line[s]})" for s, n in result.shapes.most_common())
    table.add_row("shape", ("[red]MIXED: [/]" if result.mixed else "") + (shapes or "none"))
    for problem, lines in sorted(result.problems.items()):
        shown = ", ".join(map(str, lines[:8])) + (" ..." if len(lines) > 8 else "")
        table.add_row(f"[red]{problem}[/]", f"{len(lines)} (lines {shown})")
    if result.duplicates:
        shown = ", ".join(f"{a}={b}" for a, b in result.duplicates[:6])
        table.add_row("[yellow]duplicates[/]", f"{len(result.duplicates)} (line=first seen: {shown})")
    if result.token_lengths:
        lengths = sorted(result.token_lengths)
        table.add_row("tokens", f"median {lengths[len(lengths) // 2]}, max {lengths[-1]} (limit {max_seq_len})")
    table.add_row("usable", f"{len(result.converted)} of {result.lines}")
    console.print(table)
    if result.mixed:
        console.print("[red]The file mixes shapes[/]: trainers read the first shape and mangle the rest. "
                      "Use --to OUT.jsonl to convert everything to the messages shape.")
    if to is not None:
        n = write_converted(result, to)
        console.print(f"wrote {n} samples in the messages shape to {to}")
    if not result.ok:
        exit_with(1)
