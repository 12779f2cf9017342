"""Preemption: SIGTERM asks the run to finish its current step, checkpoint and exit 0.

A second SIGTERM restores the default handler first, so an impatient scheduler can still kill
the process (the last complete checkpoint then stays the resume point).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


class Preempted(Exception):
    """Raised by the loop after the preemption checkpoint is written; the CLI exits 0."""


class PreemptionFlag:
    """Installs a SIGTERM handler (main thread only) that records the request."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # second request: stop waiting for the step
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)
        self.requested = True
        print("rlvr: SIGTERM received: finishing this step, then checkpointing and exiting",
              flush=True)

    def close(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
