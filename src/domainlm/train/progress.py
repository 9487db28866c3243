"""The progress bar (loss, tokens/s, ETA) and the end-of-run summary table."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table


# Seconds between the plain progress lines written where the console is not a terminal.
LOG_EVERY_S = 60.0


def _duration(seconds: float) -> str:
    """`_duration(5000)` -> "1h23m"."""
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


class TrainProgress:
    """A rich progress bar on the main process; a no-op elsewhere.

    Where the console is not a terminal (`domainlm train > train.log`, CI, a job scheduler) rich draws no bar, so
    a plain line with the step, loss, tokens/s and ETA is printed every `log_every_s` seconds instead: a CPU run of
    the example takes hours, and its log would otherwise stay silent between validations.
    """

    def __init__(self, console: Console, label: str, total: int, enabled: bool = True,
                 log_every_s: float = LOG_EVERY_S):
        self.enabled = enabled
        self.console = console
        self.label = label
        self.log_every_s = log_every_s
        self._plain = enabled and not console.is_terminal
        self._first: tuple[float, int] | None = None  # (time, step) of the first update: the ETA's reference
        self._last_line = 0.0
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
        if self._plain:
            self._line(step, loss, tokens_per_s)

    def _line(self, step: int, loss: float | None, tokens_per_s: float) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first, self._last_line = (now, step), now
            return
        total = int(self.progress.tasks[0].total or 0)  # the bar's own total (set_total may shorten it)
        if now - self._last_line < self.log_every_s and step < total:
            return
        self._last_line = now
        started, first_step = self._first
        done = step - first_step
        # wall time per step since this process started stepping, validations and checkpoints included
        eta = (now - started) / done * (total - step) if done > 0 else None
        parts = [f"{self.label}: step {step}/{total} ({100 * step / max(total, 1):.0f}%)"]
        if loss is not None:
            parts += [f"loss {loss:.4f}", f"{tokens_per_s:.0f} tok/s"]
        parts.append(f"{_duration(now - started)} elapsed")
        if eta is not None and step < total:
            parts.append(f"ETA {_duration(eta)}")
        self.console.print(", ".join(parts), highlight=False)

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
