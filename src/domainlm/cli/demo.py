"""`domainlm demo`: the whole loop on the bundled example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domainlm.cli.app import app, console


@app.command("demo")
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Project folder for the demo.")] = Path("demo-project"),
    fresh: Annotated[bool, typer.Option(help="Re-create the project folder from the example.")] = False,
) -> None:
    """Run the whole loop on the bundled wine shop and print a timed summary per stage."""
    from domainlm.demo import run_demo

    run_demo(directory, fresh=fresh, console=console)
