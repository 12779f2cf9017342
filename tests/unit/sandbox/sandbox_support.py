"""Helpers for the sandbox tests: the suite config, a real jail or a clean skip, host checks,
and running one adversarial row (shared by the suite and the teeth test)."""

from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest
from sandbox_rows import HONEST, Row

from rlvr.sandbox import (CallCase, RunOutcome, Sandbox, SandboxConfig, SandboxUnavailable,
                          StdioCase, Verdict)
from rlvr.sandbox.jail import uid_processes
from rlvr.sandbox.probe import probe

SUITE_CFG = SandboxConfig(timeout_s=2.0, memory_mb=512, max_processes=32, tmp_mb=16, shm_mb=8,
                          max_output_bytes=64 << 10, max_result_bytes=64 << 10, slots=8)


def full_sandbox(cfg: SandboxConfig) -> Sandbox:
    """A sandbox at the full level, or a clean skip naming what is missing."""
    try:
        return Sandbox(cfg.model_copy(update={"level": "full"}))
    except SandboxUnavailable as err:
        pytest.skip(f"full sandbox unavailable: {err} (apt-get install -y bubblewrap)")


def slot_uids(cfg: SandboxConfig) -> list[int]:
    return [cfg.uid_base + i for i in range(cfg.slots)] if probe(cfg.python).root else []


def files_of_uids(uids: list[int], roots: tuple[str, ...] = ("/tmp", "/dev/shm", "/var/tmp")
                  ) -> list[str]:
    """Files owned by a slot uid in the host's shared writable places (two levels deep)."""
    found = []
    for root in roots:
        for base, dirs, files in os.walk(root):
            if base.count("/") - root.count("/") >= 2:
                dirs[:] = []
            for name in dirs + files:
                path = os.path.join(base, name)
                try:
                    if os.lstat(path).st_uid in uids:
                        found.append(path)
                except OSError:
                    continue
    return found


class Listener:
    """A TCP listener on host 127.0.0.1 that records whether anything connected (S37)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def disk_free(path: str = "/tmp") -> int:
    return shutil.disk_usage(path).free


def leftover_processes(cfg: SandboxConfig) -> dict[int, list[int]]:
    return {uid: pids for uid in slot_uids(cfg) if (pids := uid_processes(uid))}



def run_row(sandbox: Sandbox, row: Row, port: int = 9) -> RunOutcome:
    source = row.source.replace("{port}", str(port))
    if row.mode == "stdio":
        return sandbox.run_stdio(source, [StdioCase(*row.stdio)])
    cases = [CallCase(args, expected) for args, expected in row.cases]
    return sandbox.run_calls(source, row.entry_point, cases)


def all_or_nothing(outcome: RunOutcome) -> float:
    return float(outcome.verdict is Verdict.PASS)


HONEST_ROW = Row("honest", HONEST, frozenset({Verdict.PASS}), hack=False)
