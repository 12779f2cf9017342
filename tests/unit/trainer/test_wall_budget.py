"""The wall-clock budget's stopping rule on a hand-driven clock, and the summary line."""

from __future__ import annotations

import pytest

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.runs.identity import hashed_config
from rlvr.trainer.banner import final_summary
from rlvr.trainer.wall_budget import WallBudget, stop_line


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reached_once_the_elapsed_time_is_at_the_budget():
    clock = Clock()
    budget = WallBudget(0.5, clock=clock)  # 30 s
    assert budget.elapsed_s() == 0.0 and not budget.reached()  # not started: no time counted
    budget.start()
    clock.now = 129.5
    assert budget.elapsed_s() == pytest.approx(29.5) and not budget.reached()
    clock.now = 130.0
    assert budget.reached()


def test_a_resume_counts_the_earlier_processes_time():
    clock = Clock()
    budget = WallBudget(1.0, prior_s=50.0, clock=clock)
    budget.start()
    clock.now = 109.0  # 50 + 9 = 59 s
    assert not budget.reached()
    clock.now = 110.0  # 60 s: the 1-minute budget
    assert budget.reached() and budget.elapsed_s() == pytest.approx(60.0)
    assert WallBudget(1.0, prior_s=60.0, clock=clock).reached()  # already spent before starting


def test_no_budget_never_stops():
    clock = Clock()
    budget = WallBudget(None, prior_s=1e9, clock=clock)
    budget.start()
    clock.now = 1e12
    assert not budget.reached()


def test_the_stop_line_and_the_summary_name_the_step():
    clock = Clock()
    budget = WallBudget(0.25, prior_s=3.0, clock=clock)
    budget.start()
    clock.now = 115.0  # 3 + 15 = 18 s = 0.30 min
    line = stop_line(budget, 4, 10)
    assert line == ("stopped on the wall budget (max_wall_minutes=0.25): 0.30 min of training, "
                    "at step 4 of 10")


def test_summary_carries_the_stop_line(tmp_path):
    text = final_summary(tmp_path, 2.0, "stopped on the wall budget: at step 1 of 3")
    assert text.splitlines()[-2] == "stopped on the wall budget: at step 1 of 3"
    assert "stopped" not in final_summary(tmp_path, 2.0)


def test_config_key_is_positive_and_outside_the_resume_identity():
    cfg = load_config(None, ["max_wall_minutes=1.5"])
    assert cfg.max_wall_minutes == 1.5 and load_config(None, []).max_wall_minutes is None
    assert "max_wall_minutes" not in hashed_config(cfg.model_dump(mode="json"))
    with pytest.raises(ConfigError, match="greater than 0"):
        load_config(None, ["max_wall_minutes=0"])
