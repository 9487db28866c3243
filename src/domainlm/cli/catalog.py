"""`domainlm catalog check`: validate and summarise the catalog and knowledge documents."""

from __future__ import annotations

from rich.table import Table

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console, exit_with
import typer

catalog_app = typer.Typer(help="Validate and inspect the product catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("check")
def check(config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """Validate the catalog (every problem, with row and id) and summarise it; exits 1 on problems."""
    from domainlm.catalog import load_catalog
    from domainlm.catalog.summary import summarise
    from domainlm.cli.app import load
    from domainlm.errors import CatalogError
    from domainlm.knowledge import load_knowledge

    project = load(config, set_)
    try:
        catalog = load_catalog(project.catalog, project.root)
    except CatalogError as exc:
        if not exc.problems:
            raise
        table = Table(title=f"{len(exc.problems)} problem(s) in the catalog", title_style="bold red")
        for column in ("row", "id", "field", "problem"):
            table.add_column(column)
        for p in exc.problems:
            table.add_row(str(p.row or ""), p.id or "", p.field, p.message)
        console.print(table)
        console.print(f"[red]{str(exc).splitlines()[0]}[/] Fix these rows and run `domainlm catalog check` again.")
        exit_with(1)
    sections = load_knowledge(project.knowledge, project.root)
    console.print(summarise(catalog, project.catalog, sections))
