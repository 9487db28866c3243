"""The progress bar (loss, tokens/s, ETA) and the end-of-run summary table."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table


class TrainProgress:
    """A rich progress bar on the main process; a no-op elsewhere."""

    def __init__(self, console: Console, label: str, total: int, enabled: bool = True):
        self.enabled = enabled
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[tps]} tok/s"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled,
        )
        self.task = self.progress.add_task(label, total=total, loss="-", tps="-")

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def update(self, step: int, loss: float | None, tokens_per_s: float) -> None:
        fields = {}
        if loss is not None:
            fields = {"loss": f"{loss:.4f}", "tps": f"{tokens_per_s:.0f}"}
        self.progress.update(self.task, completed=step, **fields)

    def set_total(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def print(self, text: str) -> None:
        if self.enabled:
            self.progress.console.print(text)


def _f(value, fmt: str = ".4f") -> str:
    return "n/a" if value is None else format(value, fmt)


def summary_table(s: dict) -> Table:
    table = Table(title=f"Run {s['run_id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("adapter / stage", f"{s['adapter']} / {s['stage']}"),
        ("base model", s["base_model"]),
        ("status", s["status"]),
        ("steps", f"{s['steps']} / {s['total_steps']}"),
        ("train loss (last 10 steps)", _f(s.get("final_train_loss"))),
        ("val loss: before -> final (best)", f"{_f(s.get('initial_val_loss'))} -> {_f(s.get('final_val_loss'))} "
                                             f"({_f(s.get('best_val_loss'))} at step {s.get('best_step')})"),
        ("tokens seen (trained)", f"{s['tokens_seen']:,} ({s['trained_tokens']:,})"),
        ("throughput", f"{s['tokens_per_s']:.0f} tokens/s"),
        ("wall time", f"{s['wall_time_s']:.0f} s"),
        ("estimated cost", f"{s['cost']:.4f}"),
        ("adapter", s["adapter_dir"]),
    ]
    for k, v in rows:
        table.add_row(k, str(v))
    return table
