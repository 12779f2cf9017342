"""Wall-clock budget (``max_wall_minutes``): training stops once its elapsed wall time reaches
the budget. The time counted is the step loop's (steps, periodic evaluations, checkpoints; not
model loading or the before/after evaluations), summed over the processes of a resumed run: each
checkpoint stores the time so far (``counters.train_wall_s``), a resume starts from it."""

from __future__ import annotations

import time
from collections.abc import Callable


class WallBudget:
    """Elapsed training time = ``prior_s`` (earlier processes) + this process's time since
    ``start``; ``reached`` once it is at or above ``max_minutes`` (never when that is None)."""

    def __init__(self, max_minutes: float | None, prior_s: float = 0.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.max_minutes, self.prior_s, self.clock = max_minutes, prior_s, clock
        self.started: float | None = None

    def start(self) -> None:
        self.started = self.clock()

    def elapsed_s(self) -> float:
        return self.prior_s + (0.0 if self.started is None else self.clock() - self.started)

    def reached(self) -> bool:
        return self.max_minutes is not None and self.elapsed_s() >= 60 * self.max_minutes


def stop_line(budget: WallBudget, done: int, steps: int) -> str:
    """What the log and the summary say about a run that stopped on the budget."""
    return (f"stopped on the wall budget (max_wall_minutes={budget.max_minutes:g}): "
            f"{budget.elapsed_s() / 60:.2f} min of training, at step {done} of {steps}")
