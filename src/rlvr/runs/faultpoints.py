"""Named fault points for the fault-injection tests (tests/integration/test_faults.py).

``fault_point(name)`` is a no-op unless the environment variable ``RLVR_FAULT`` names that point:
``RLVR_FAULT=backward:3`` makes the process SIGKILL itself (a real ``kill -9``) the third time the
``backward`` point is reached. Points: ``stage:rollout``, ``stage:reward``, ``stage:advantages``,
``stage:update``, ``backward``, ``optimizer_step``, ``ckpt:<boundary>`` (checkpoint.py) and
``step_end``. ``RLVR_FAULT_SIGNAL=TERM`` sends SIGTERM instead (the preemption test);
``STOP`` freezes the process (a hung rank); ``RLVR_FAULT_RANK=1`` fires only in that rank of a
multi-process run.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_SPEC = os.environ.get("RLVR_FAULT", "")
_TARGET, _, _COUNT = _SPEC.rpartition(":")
_HITS: Counter = Counter()


def fault_point(name: str) -> None:
    """Kill this process here if RLVR_FAULT asks for it (tests only; free otherwise)."""
    if not _SPEC or name != _TARGET:
        return
    if os.environ.get("RLVR_FAULT_RANK", os.environ.get("RANK", "0")) != os.environ.get("RANK", "0"):
        return
    _HITS[name] += 1
    if _HITS[name] == int(_COUNT or 1):
        sig = {"TERM": signal.SIGTERM, "STOP": signal.SIGSTOP}.get(
            os.environ.get("RLVR_FAULT_SIGNAL", ""), signal.SIGKILL)
        os.kill(os.getpid(), sig)
