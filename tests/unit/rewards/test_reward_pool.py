"""The verifier worker pool: deadline, kill and replace, crashes, exceptions, memory cap."""

from __future__ import annotations

import time

import pytest

import reward_helpers as h
from rlvr.rewards.pool import WorkerPool
from rlvr.types import TaskRow

ROW = TaskRow("r", "q", "1")


@pytest.fixture()
def small_pool():
    with WorkerPool(workers=2, deadline_s=1.0, memory_mb=256) as fresh:
        yield fresh


@pytest.mark.parametrize("verifier", [h.sleepy, h.spin])
def test_hung_worker_is_killed_and_batch_adds_one_deadline(small_pool, verifier):
    items = [("hang", ROW)] + [("fine", ROW)] * 40
    started = time.monotonic()
    results = small_pool.map(verifier, items)
    wall = time.monotonic() - started
    assert results[0].score == 0.0 and results[0].verdict == "timeout"
    assert all(r.score == 1.0 for r in results[1:])
    assert wall < 1.0 + 1.0  # one deadline plus a little
    assert small_pool.counts["timeouts"] == 1
    # the replacement worker serves later jobs
    assert small_pool.map(verifier, [("fine", ROW)] * 4)[0].score == 1.0


def test_crashed_worker_is_an_infra_error_and_replaced(small_pool):
    results = small_pool.map(h.crashy, [("crash", ROW), ("fine", ROW), ("fine", ROW)])
    assert results[0].outcome == "infra_error" and "died" in results[0].error
    assert [r.score for r in results[1:]] == [1.0, 1.0]
    assert small_pool.counts["crashes"] == 1


def test_raising_verifier_is_an_infra_error_not_zero(small_pool):
    good, bad = small_pool.map(h.raises_sometimes, [("1", ROW), ("boom", ROW)])
    assert good.score == 1.0
    assert bad.outcome == "infra_error" and "RuntimeError: verifier bug" in bad.error


def test_wrong_return_type_is_an_infra_error(small_pool):
    (result,) = small_pool.map(h.not_a_result, [("x", ROW)])
    assert result.outcome == "infra_error" and "not RewardResult" in result.error


def test_memory_cap_stops_a_greedy_verifier(small_pool):
    eaten, fine = small_pool.map(h.greedy, [("eat", ROW), ("fine", ROW)])
    assert eaten.score == 0.0 and eaten.verdict == "memory_limit"
    assert fine.score == 1.0
    assert small_pool.counts["memory_limits"] == 1


def test_closed_pool_refuses_work():
    pool = WorkerPool(workers=1, deadline_s=1.0)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(h.sleepy, "x", ROW)


def test_real_sympy_stall_is_killed_at_the_deadline(small_pool):
    """A prediction that reaches sympy and stalls it (math-verify's own alarm set far away):
    the pool deadline bounds it, and the rest of the batch is scored normally."""
    from rlvr.configs.reward import MathPolicyConfig
    from rlvr.rewards.math import MathVerifier

    verify = MathVerifier(MathPolicyConfig(symbolic_timeout_s=60))
    row = TaskRow("r", "q", "5")
    stall = "\\boxed{x^{10^{10}} - x^{10^{10}} + 5^{5^{5^{5}}}}"
    started = time.monotonic()
    results = small_pool.map(verify, [(stall, row)] + [("\\boxed{5}", row)] * 20)
    assert results[0].verdict == "timeout" and results[0].score == 0.0
    assert all(r.score == 1.0 for r in results[1:])
    assert time.monotonic() - started < 1.0 + 1.0


def test_unpicklable_sample_is_an_infra_error(small_pool):
    row = TaskRow("r", "q", "1", {"handle": lambda: None})
    bad, good = small_pool.map(h.sleepy, [("x", row), ("y", ROW)])
    assert bad.outcome == "infra_error" and "cannot send" in bad.error
    assert good.score == 1.0
