"""The Typer application and the options every project command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

app = typer.Typer(
    name="domainlm",
    help="Turn a business's catalog, documents and voice into its own grounded assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="Project file (or its folder).", show_default=True),
]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a project-file field, e.g. --set train.lr=1e-4 (repeatable)."),
]
DEFAULT_CONFIG = Path("domainlm.yaml")


def load(config: Path, overrides: list[str] | None):
    """Load the project file with command-line overrides applied."""
    from domainlm.config import load_project

    return load_project(config, overrides or [])


def exit_with(code: int) -> None:
    raise typer.Exit(code)
