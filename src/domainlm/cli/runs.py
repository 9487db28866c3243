"""`domainlm runs`: the run registry as tables (list, show RUN, compare)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console, load

runs_app = typer.Typer(help="The run registry: list, show and compare training runs.", no_args_is_help=False)
app.add_typer(runs_app, name="runs")


def _runs(config, set_):
    from domainlm.runs import load_runs

    project = load(config, set_)
    return load_runs(project.root)


@runs_app.callback(invoke_without_command=True)
def runs_default(ctx: typer.Context, config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """List runs when no subcommand is given."""
    if ctx.invoked_subcommand is None:
        list_command(config, set_)


@runs_app.command("list")
def list_command(config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """Every run: base, adapter, stage, what changed, data, time, losses and eval scores."""
    from domainlm.runs import list_table

    runs = _runs(config, set_)
    if not runs:
        console.print("No runs yet: `domainlm train` creates runs/<run-id>/.")
        return
    console.print(list_table(runs))


@runs_app.command("show")
def show_command(run: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
                 config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None) -> None:
    """One run in detail."""
    from domainlm.runs import find_run, show_table

    console.print(show_table(find_run(_runs(config, set_), run)))


@runs_app.command("compare")
def compare_command(
    runs: Annotated[Optional[list[str]], typer.Argument(help="Run ids (default: the last two runs of each adapter).")] = None,
    config: ConfigOption = DEFAULT_CONFIG, set_: SetOption = None,
) -> None:
    """Runs side by side: outcomes and every config field that differs."""
    from domainlm.runs import compare_table, find_run

    every = _runs(config, set_)
    if runs:
        chosen = [find_run(every, r) for r in runs]
    else:
        chosen = []
        for adapter in dict.fromkeys(r.get("adapter") for r in every):
            chosen += [r for r in every if r.get("adapter") == adapter][-2:]
    if not chosen:
        console.print("No runs to compare.")
        return
    console.print(compare_table(chosen))
