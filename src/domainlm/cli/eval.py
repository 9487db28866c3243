"""`domainlm eval`: measure a run through the same Assistant pipeline that serving runs; exit 1 on failed gates."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console, exit_with, load


@contextmanager
def _bars():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=False) as bars:
        def start(label: str, total: int):
            task = bars.add_task(label, total=total)
            return lambda n: bars.advance(task, n)

        yield start


@app.command("eval")
def eval_command(
    config: ConfigOption = DEFAULT_CONFIG,
    run: Annotated[Optional[str], typer.Option("--run", help="Run id (or unique prefix) to evaluate.")] = None,
    adapter: Annotated[Optional[str], typer.Option("--adapter", help="Evaluate this adapter's newest run.")] = None,
    baseline: Annotated[str, typer.Option("--baseline", help="`base` (the base model) or a run id.")] = "base",
    split: Annotated[Optional[list[str]], typer.Option("--split", help="Dataset splits (default: test and golden).")] = None,
    level: Annotated[Optional[list[str]], typer.Option("--level", help="system, model, model_norag (default: all).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto, transformers or llamacpp.")] = "auto",
    max_questions: Annotated[Optional[int], typer.Option("--max-questions", help="Cap per split and on the attacks.")] = None,
    no_attacks: Annotated[bool, typer.Option("--no-attacks", help="Skip the shipped attack sets.")] = False,
    no_forgetting: Annotated[bool, typer.Option("--no-forgetting", help="Skip the forgetting set.")] = False,
    no_loss: Annotated[bool, typer.Option("--no-loss", help="Skip held-out loss.")] = False,
    no_judge: Annotated[bool, typer.Option("--no-judge", help="Skip the LLM judge even when configured.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Discard finished results and start over.")] = False,
    set_: SetOption = None,
) -> None:
    """Evaluate a run at system and model level against a baseline; writes eval/<run>/ and checks eval.gates."""
    from domainlm.eval.pipeline import LEVELS
    from domainlm.eval.recipe import SPLITS, evaluate

    project = load(config, set_)
    with _bars() as progress:
        result = evaluate(project, run=run, adapter=adapter, baseline=baseline, splits=tuple(split or SPLITS),
                          levels=tuple(level or LEVELS), engine=engine, max_questions=max_questions,
                          attacks=not no_attacks, forgetting=not no_forgetting, loss=not no_loss,
                          judge=not no_judge, fresh=fresh, progress=progress)
    console.print(_table(result.summary))
    for note in result.summary.get("notes", []):
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if result.summary.get("rescored_answers"):
        console.print(f"{result.summary['rescored_answers']} stored answers scored differently with the current "
                      "scorer; results.jsonl and these figures use the new scores.")
    console.print(f"Report: {result.out_dir / 'report.html'}\nMetrics: {result.out_dir / 'metrics.json'}")
    for gate in result.gates:
        console.print(("[green]pass[/] " if gate.passed else "[bold red]FAIL[/] ") + gate.describe(), highlight=False)
    if result.failed_gates:
        console.print(f"[bold red]{len(result.failed_gates)} gate(s) failed:[/] "
                      + ", ".join(g.metric for g in result.failed_gates), highlight=False)
        exit_with(1)


def _table(summary: dict):
    from rich.table import Table

    from domainlm.eval.report import HEADLINE

    table = Table(title=f"eval {summary['run_id']} (baseline {summary['baseline']})")
    table.add_column("metric")
    columns = [(lvl, var) for lvl in summary["levels"] for var in summary["levels"][lvl]]
    for lvl, var in columns:
        table.add_column(f"{lvl}/{var}", justify="right")
    for name in HEADLINE:
        values = [summary["levels"][lvl][var].get(name) for lvl, var in columns]
        table.add_row(name, *["-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in values])
    for name, value in summary.get("extra", {}).items():
        if isinstance(value, (int, float)):
            table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value), *[""] * (len(columns) - 1))
    return table
