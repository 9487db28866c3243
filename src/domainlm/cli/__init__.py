"""The `domainlm` command: thin verbs that parse options and call into the package.

Each command group lives in its own module and registers itself on `app` when imported.
"""

from __future__ import annotations

import importlib
import sys

from domainlm.cli.app import app, console

# Command modules, in the order their verbs appear in `domainlm --help`.
COMMAND_MODULES = ["project", "models", "catalog"]


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"domainlm.cli.{name}")


_load_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, printing user-facing errors without a traceback."""
    from domainlm.errors import DomainlmError

    try:
        app(args=argv, prog_name="domainlm", standalone_mode=False)
    except DomainlmError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except Exception as exc:  # click's own usage errors arrive here with standalone_mode=False
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


__all__ = ["app", "main"]
