"""Mutation check of the adversarial suite: a weak in-process harness must fail many rows."""

from __future__ import annotations

from sandbox_rows import ROWS
from weak_harness import weak_verdict

from rlvr.sandbox import Sandbox

MIN_WEAK_FAILURES = 15


def test_weak_harness_fails_many_rows(sandbox: Sandbox, listener) -> None:
    failed = []
    for row in ROWS:
        verdict = weak_verdict(sandbox, row, listener.port)
        paid_hack = row.hack and verdict == "PASS"
        if verdict not in {v.value for v in row.expected} or paid_hack:
            failed.append(f"{row.id}:{verdict}")
    print(f"weak harness fails {len(failed)}/{len(ROWS)} rows: {' '.join(failed)}")
    assert len(failed) >= MIN_WEAK_FAILURES, failed
