"""A verifier whose module hangs when a verifier worker imports it (a worker that never finishes
starting: an import stuck on a lock or a network share). The test process imports it normally."""

from __future__ import annotations

import multiprocessing
import time

from rlvr.types import RewardResult, TaskRow

if multiprocessing.current_process().name == "rlvr-verifier":
    time.sleep(600)


def verify(completion: str, row: TaskRow) -> RewardResult:
    return RewardResult.scored(1.0, "ok")
