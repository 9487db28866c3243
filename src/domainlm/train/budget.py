"""`train.time_budget_s`: stop before a step that would end past the budget, keeping time for the finish.

The finish after the last step is an evaluation on the val split (unless that step just had one) and saving
the adapter and the checkpoint; their costs are measured during the run (the first eval happens before step 1,
and a checkpoint is timed at setup when a budget is set), so the prediction is made from this machine's
actual speed. The first step always runs: before it there is no step time to predict from (an estimate from
the initial evaluation was tried and is dominated by warm-up: 8 s predicted for 0.3 s steps on the tests' model).
"""

from __future__ import annotations

from collections import deque


class TimeBudget:
    """Predicts whether one more optimiser step still fits, from measured step, eval and save times."""

    def __init__(self, budget_s: float | None, has_val: bool):
        self.budget_s = budget_s
        self.has_val = has_val
        self.first_step_s: float | None = None  # includes warm-up (allocations, first autograd graph)
        self.step_s: deque[float] = deque(maxlen=5)
        self.eval_s = 0.0
        self.save_s = 0.0

    @property
    def active(self) -> bool:
        return self.budget_s is not None

    def record_step(self, seconds: float) -> None:
        if self.first_step_s is None:
            self.first_step_s = seconds
        else:
            self.step_s.append(seconds)

    def record_eval(self, seconds: float) -> None:
        self.eval_s = max(self.eval_s, seconds)

    def record_save(self, seconds: float) -> None:
        self.save_s = max(self.save_s, seconds)

    def step_estimate(self) -> float | None:
        """The slowest of the last few steps after the first (rows vary in width); the first step's time
        (warm-up included) until there are others; None before any."""
        return max(self.step_s) if self.step_s else self.first_step_s

    def finish_estimate(self, needs_eval: bool) -> float:
        """A final evaluation when one is due, the best adapter and the last checkpoint."""
        return (self.eval_s if needs_eval and self.has_val else 0.0) + 2 * self.save_s

    def steps_that_fit(self, elapsed_s: float, steps_done: int, eval_every: int, save_every: int) -> int:
        """Steps done plus the steps that still fit: each at the mean measured step time (the first excluded)
        with a 5% margin, plus its share of the periodic evaluations and checkpoints; then the finish."""
        if self.budget_s is None or not self.step_s:
            raise ValueError("steps_that_fit needs a budget and a measured step after the first")
        per_step = 1.05 * sum(self.step_s) / len(self.step_s)
        per_step += (self.eval_s if self.has_val else 0.0) / max(eval_every, 1) + self.save_s / max(save_every, 1)
        left = self.budget_s - elapsed_s - self.finish_estimate(needs_eval=True)
        return steps_done + max(0, int(left // per_step))

    def fits_another_step(self, elapsed_s: float) -> bool:
        """Whether a step now, then the finish (always with an eval: the new step has none yet), ends in budget."""
        step = self.step_estimate()
        if self.budget_s is None or step is None:
            return True
        return elapsed_s + step + self.finish_estimate(needs_eval=True) <= self.budget_s
