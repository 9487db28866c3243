"""The `domainlm` command: thin verbs that parse options and call into the package.

Each command group lives in its own module and registers itself on `app` when imported.
"""

from __future__ import annotations

import importlib
import sys

from domainlm.cli.app import app, err_console

# Command modules, in the order their verbs appear in `domainlm --help`.
COMMAND_MODULES = ["project", "models", "catalog", "data", "index", "train", "runs", "eval", "export", "serve", "chat", "demo"]


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"domainlm.cli.{name}")


_load_commands()


# Commands whose torch work runs faster under tcmalloc (see domainlm.allocator); they restart under it.
TCMALLOC_COMMANDS = {"train", "demo", "serve", "eval", "chat"}


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, printing user-facing errors without a traceback."""
    from domainlm.errors import DomainlmError

    if argv is None and TCMALLOC_COMMANDS & set(sys.argv[1:2]):
        from domainlm.allocator import restart_with_tcmalloc

        restart_with_tcmalloc()

    try:
        # Typer handles usage errors and exits itself (standalone mode); our own errors come out here.
        app(args=argv, prog_name="domainlm")
    except DomainlmError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
