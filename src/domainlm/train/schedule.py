"""Learning-rate schedule: linear warmup then cosine decay to zero, over a horizon a time budget may shorten."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    """Multiplier of the peak LR at optimiser step `step` (0-based).

    >>> [round(warmup_cosine(s, 10, 2), 3) for s in (0, 1, 2, 6, 10)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class Horizon:
    """The schedule's length, as the LambdaLR's multiplier function. `train.time_budget_s` shortens it once
    the step time is known, so a run the budget cuts short still ends its cosine at zero instead of stopping
    at a high learning rate (a third of the way into a cosine the LR is still ~80% of its peak)."""

    def __init__(self, total_steps: int, warmup_ratio: float):
        self.total = total_steps
        self.warmup_ratio = warmup_ratio
        self.warmup = int(round(total_steps * warmup_ratio))
        self.fitted = False  # shortened by a time budget; a checkpoint keeps this object's fields

    def __call__(self, step: int) -> float:
        return warmup_cosine(step, self.total, self.warmup)

    def shorten(self, total_steps: int, steps_done: int) -> None:
        """Decay to zero by `total_steps` (never before the next step); the warmup shrinks to its share of
        the new length, so a run fitted while still warming up goes straight on to the cosine."""
        if total_steps >= self.total:
            return
        self.total = max(total_steps, steps_done + 1)
        self.fitted = True
        self.warmup = min(self.warmup, int(round(self.total * self.warmup_ratio)))


def make_scheduler(optimizer, total_steps: int, warmup_ratio: float):
    """A LambdaLR whose `lr_lambdas[0]` is the run's Horizon."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimizer, Horizon(total_steps, warmup_ratio))
