"""Golden math verdicts through the real worker pool (research/reliability.md §2.3, M01–M33)."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from golden_math import ADVERSARIAL, EQUIVALENT, NOT_EQUIVALENT
from rlvr.configs.reward import MathPolicyConfig
from rlvr.rewards.math import MathVerifier, math_equal
from rlvr.types import TaskRow

SENTINEL = "/tmp/rlvr_m23_sentinel"
VERIFY = MathVerifier()


def _verdicts(pool, items):
    started = time.monotonic()
    results = pool.map(VERIFY, [(c, TaskRow("r", "q", g)) for c, g in items])
    return results, time.monotonic() - started


def _as_bool(result):
    assert result.error is None, result.error
    return None if result.score is None else result.score >= 1.0


def test_golden_table_sizes():
    assert len(EQUIVALENT) >= 100 and len(NOT_EQUIVALENT) >= 100
    ids = {case[0] for case in ADVERSARIAL}
    assert {f"M{n:02d}" for n in range(1, 33)} <= {i[:3] for i in ids}


def test_equivalent_pairs_are_equal(pool):
    results, _ = _verdicts(pool, EQUIVALENT)
    wrong = [(c[-30:], g, r.verdict) for (c, g), r in zip(EQUIVALENT, results) if not _as_bool(r)]
    assert not wrong


def test_non_equivalent_pairs_are_not_equal(pool):
    results, _ = _verdicts(pool, NOT_EQUIVALENT)
    wrong = [(c[-30:], g, r.verdict) for (c, g), r in zip(NOT_EQUIVALENT, results) if _as_bool(r)]
    assert not wrong


def test_adversarial_cases_within_deadline(pool):
    if os.path.exists(SENTINEL):
        os.remove(SENTINEL)
    items = [(c, g) for _, c, g, _ in ADVERSARIAL]
    results, wall = _verdicts(pool, items)
    mismatches = [(case_id, expected, r.verdict) for (case_id, _, _, expected), r
                  in zip(ADVERSARIAL, results) if _as_bool(r) is not expected]
    assert not mismatches
    assert not os.path.exists(SENTINEL), "an injected payload ran"
    # 73 cases on 2 workers: even if every pathological one ran to its deadline this stays bounded.
    assert wall < 4.0 * 8


def test_percent_ratio_policy():
    ratio = MathPolicyConfig(percent="ratio")
    assert math_equal("5\\%", "0.05", ratio) == (True, "exact")
    assert math_equal("5\\%", "5", ratio)[0] is False
    assert math_equal("5\\%", "0.05")[0] is False  # default 'strip': 5% is 5


def test_tolerance_policy_is_declared():
    assert math_equal("0.5000001", "\\frac12")[0] is False
    assert math_equal("0.5000001", "\\frac12", MathPolicyConfig(rel_tol=1e-6))[0] is True


def test_same_verdicts_from_threads_and_asyncio(pool):
    """M33: the pool gives the same verdicts whether called from a worker thread or asyncio."""
    cases = [(c, g) for _, c, g, _ in ADVERSARIAL[:12]] + EQUIVALENT[:10]
    expected = [r.score for r in _verdicts(pool, cases)[0]]
    from_thread: list = []
    thread = threading.Thread(target=lambda: from_thread.extend(
        r.score for r in _verdicts(pool, cases)[0]))
    thread.start()
    thread.join(timeout=60)

    async def score_all():
        futures = [asyncio.wrap_future(pool.submit(VERIFY, c, TaskRow("r", "q", g))) for c, g in cases]
        return [r.score for r in await asyncio.gather(*futures)]

    assert from_thread == expected
    assert asyncio.run(score_all()) == expected


@pytest.mark.parametrize("case", ["\\boxed{10^{10^{10}}}", "\\boxed{2^{2^{35}}}"])
def test_huge_powers_are_refused_without_computing(case):
    started = time.monotonic()
    assert VERIFY(case, TaskRow("r", "q", "5")).score == 0.0
    assert time.monotonic() - started < 0.1
