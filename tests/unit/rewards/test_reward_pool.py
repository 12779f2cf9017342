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
def test_hung_worker_is_killed_retried_once_and_batch_adds_two_deadlines(small_pool, verifier):
    items = [("hang", ROW)] + [("fine", ROW)] * 40
    started = time.monotonic()
    results = small_pool.map(verifier, items)
    wall = time.monotonic() - started
    assert results[0].score == 0.0 and results[0].verdict == "timeout"
    assert all(r.score == 1.0 for r in results[1:])
    assert 2 * 1.0 <= wall < 2 * 1.0 + 1.0  # the retry's deadline too, plus a little
    assert small_pool.counts["timeout_retries"] == 1 and small_pool.counts["timeouts"] == 1
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
    assert time.monotonic() - started < 2 * 1.0 + 1.0  # the answer and its one retry
    assert small_pool.counts["timeout_retries"] == 1


def test_unpicklable_sample_is_an_infra_error(small_pool):
    row = TaskRow("r", "q", "1", {"handle": lambda: None})
    bad, good = small_pool.map(h.sleepy, [("x", row), ("y", ROW)])
    assert bad.outcome == "infra_error" and "cannot send" in bad.error
    assert good.score == 1.0


def test_a_timeout_that_does_not_repeat_scores_on_the_retry(small_pool, tmp_path):
    marker = str(tmp_path / "first-call")
    (result,) = small_pool.map(h.slow_once, [(marker, ROW)])
    assert result.score == 1.0 and result.verdict == "ok"
    assert small_pool.counts["timeout_retries"] == 1 and small_pool.counts["timeouts"] == 0


def test_a_worker_that_hangs_starting_is_an_infra_error_not_a_timeout():
    import start_hangs

    with WorkerPool(workers=1, deadline_s=5.0, memory_mb=256, startup_timeout_s=0.5) as pool:
        started = time.monotonic()
        (result,) = pool.map(start_hangs.verify, [("fine", ROW)])
        assert time.monotonic() - started < 2 * 0.5 + 1.5  # two starts, not the deadline
        assert result.outcome == "infra_error" and result.score is None
        assert "start-up failed 2 times" in result.error and "not the answer" in result.error
        assert "within 0.5 s" in result.error
        assert pool.counts["startup_failures"] == 2 and pool.counts["timeouts"] == 0
        assert pool.map(h.sleepy, [("fine", ROW)])[0].score == 1.0  # the pool still works


def test_a_worker_that_dies_starting_is_an_infra_error_and_the_pool_goes_on():
    import start_dies

    with WorkerPool(workers=1, deadline_s=5.0, memory_mb=256) as pool:
        (result,) = pool.map(start_dies.verify, [("fine", ROW)])
        assert result.outcome == "infra_error" and "exit code 7" in result.error
        assert pool.counts["startup_failures"] == 2 and pool.counts["crashes"] == 0
        assert pool.map(h.sleepy, [("fine", ROW)])[0].score == 1.0


def test_a_long_queue_wait_is_an_infra_error():
    with WorkerPool(workers=1, deadline_s=1.0, memory_mb=256, queue_timeout_s=0.5) as pool:
        pool.map(h.sleepy, [("warm", ROW)])  # the worker has the verifier loaded
        hung, waiting = pool.map(h.sleepy, [("hang", ROW), ("fine", ROW)])
        assert hung.verdict == "timeout"  # the answer's own fault, after its retry
        assert waiting.outcome == "infra_error" and "waited" in waiting.error
        assert "queue_timeout_s=0.5" in waiting.error
        assert pool.counts["queue_timeouts"] == 1


def _hold_the_gil(seconds: float) -> None:
    """What a C extension that never releases the GIL does to the dispatcher thread: libc usleep
    called through PyDLL keeps the GIL for its whole duration."""
    import ctypes

    ctypes.PyDLL(None).usleep(int(seconds * 1e6))


def test_a_deadline_passed_while_the_pool_stalled_is_an_infra_error(small_pool):
    small_pool.map(h.sleepy, [("warm", ROW)] * 2)  # both workers have the verifier loaded
    future = small_pool.submit(h.sleepy, "hang", ROW)
    time.sleep(0.2)  # the job runs, under its 1 s deadline
    _hold_the_gil(2.5)
    result = future.result(timeout=5)
    assert result.outcome == "infra_error" and "stalled" in result.error
    assert "not the answer" in result.error
    assert small_pool.counts["stalls"] == 1 and small_pool.counts["timeouts"] == 0
    assert small_pool.map(h.sleepy, [("fine", ROW)])[0].score == 1.0
