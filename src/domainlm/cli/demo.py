"""`domainlm demo`: the whole loop on the bundled example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domainlm.cli.app import app, console


@app.command("demo")
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Project folder for the demo.")] = Path("demo-project"),
    fresh: Annotated[bool, typer.Option(help="Redo every stage, even those whose outputs are current.")] = False,
    serve: Annotated[bool, typer.Option(help="Start the server and chat page at the end.")] = True,
) -> None:
    """Run the whole loop on the bundled wine shop (init, index, data, train, eval, export, serve) with a timed summary."""
    from domainlm.demo import run_demo

    run_demo(directory, fresh=fresh, serve=serve, console=console)
