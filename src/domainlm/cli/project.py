"""`domainlm init`: scaffold a project folder, empty or from a bundled example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from domainlm.cli.app import app, console


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    example: Annotated[Optional[str], typer.Option(help="Start from a bundled example, e.g. wine-shop.")] = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty.")] = False,
) -> None:
    """Scaffold a project: domainlm.yaml, a catalog and knowledge documents (from an example if asked)."""
    from domainlm.scaffold import init_project

    written = init_project(directory, example=example, force=force)
    console.print(f"[green]Created[/] {directory} ({len(written)} files). Next: "
                  f"cd {directory} && domainlm catalog check")
