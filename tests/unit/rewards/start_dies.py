"""A verifier whose module kills the verifier worker that imports it (a worker that dies while
starting: a broken native extension). The test process imports it normally."""

from __future__ import annotations

import multiprocessing
import os

from rlvr.types import RewardResult, TaskRow

if multiprocessing.current_process().name == "rlvr-verifier":
    os._exit(7)


def verify(completion: str, row: TaskRow) -> RewardResult:
    return RewardResult.scored(1.0, "ok")
