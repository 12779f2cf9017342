"""The verifier worker process of rewards/pool.py: resource caps and the job loop."""

from __future__ import annotations

import logging
import pickle
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection

from rlvr.types import RewardResult, TaskRow

Verifier = Callable[[str, TaskRow], RewardResult]


def _vm_size_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_resources(memory_mb: int) -> None:
    cap = _vm_size_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_verifier(fn: Verifier, completion: str, row: TaskRow) -> tuple[RewardResult, bool]:
    """Run one verifier call; returns (result, recycle_worker). Exceptions are sorted into the
    three outcomes: resource exhaustion caused by the answer scores 0, anything else the
    verifier raises is an infrastructure error."""
    try:
        result = fn(completion, row)
    except MemoryError:
        return RewardResult.scored(0.0, "memory_limit"), True
    except RecursionError:
        return RewardResult.scored(0.0, "recursion_limit"), False
    except Exception as err:  # a broken verifier: counted, never scored as 0
        return RewardResult.infra_error(f"verifier raised {type(err).__name__}: {err}"[:500]), False
    if not isinstance(result, RewardResult):
        return RewardResult.infra_error(f"verifier returned {type(result).__name__}, "
                                        "not RewardResult"), False
    return result, False


def worker_main(conn: Connection, memory_mb: int) -> None:
    """Worker loop: ('install', key, pickled verifier) | ('run', job_id, key, completion, row)."""
    _limit_resources(memory_mb)
    logging.disable(logging.CRITICAL)  # math-verify logs every timeout; results carry verdicts
    verifiers: dict[str, Verifier] = {}
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "install":  # unpickling imports the verifier's modules: acknowledged,
            verifiers[message[1]] = pickle.loads(message[2])  # so it never eats a deadline
            conn.send(("installed", message[1]))
            continue
        _, job_id, key, completion, row = message
        result, recycle = run_verifier(verifiers[key], completion, row)
        conn.send((job_id, result, recycle))
        if recycle:
            return
