"""The supervisor: launches one jail, feeds it, reads it with byte budgets, enforces the deadline.

It runs in the trusted process. It never opens files inside the jail, never parses the candidate's
stdout for verdicts, and accepts driver records only from the result pipe and only with this run's
nonce. On the deadline, an output overflow, or the driver's ``done`` record, the whole jail is
SIGKILLed (the pid namespace takes every descendant with it) and the slot uid is swept.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from rlvr.sandbox import jail, seccomp
from rlvr.configs.sandbox import SandboxConfig
from rlvr.sandbox.probe import Capabilities

_CHUNK = 1 << 16
_DRAIN_S = 1.0  # after a kill, how long to wait for the pipes to reach EOF
START_LINE = b'{"kind": "start"}\n'  # the driver's first line, written before any candidate code


@dataclass
class RawRun:
    """What came out of one jail, before any verdict is formed."""

    records: list[dict] = field(default_factory=list)
    started: bool = False
    done: bool = False
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    output_limit: bool = False
    result_overflow: bool = False
    elapsed_s: float = 0.0


class _Streams:
    """Bounded readers and non-blocking writers over the jail's pipes, driven by one selector."""

    def __init__(self, readers: dict[int, int], writers: dict[int, bytes]) -> None:
        self.budget = readers
        self.data: dict[int, bytearray] = {fd: bytearray() for fd in readers}
        self.overflow: set[int] = set()
        self.pending = writers
        self.sel = selectors.DefaultSelector()
        for fd in readers:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ)
        for fd in writers:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_WRITE)

    @property
    def open(self) -> bool:
        return bool(self.sel.get_map())

    def pump(self, timeout: float) -> None:
        for key, _ in self.sel.select(timeout):
            fd = key.fd
            if fd in self.pending:
                self._write(fd)
            else:
                self._read(fd)

    def _write(self, fd: int) -> None:
        try:
            sent = os.write(fd, self.pending[fd][:_CHUNK])
        except BrokenPipeError:
            sent = len(self.pending[fd])
        self.pending[fd] = self.pending[fd][sent:]
        if not self.pending[fd]:
            self._close(fd)

    def _read(self, fd: int) -> None:
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            self._close(fd)
            return
        room = self.budget[fd] - len(self.data[fd])
        self.data[fd] += chunk[:max(room, 0)]
        if len(chunk) > room:
            self.overflow.add(fd)

    def _close(self, fd: int) -> None:
        self.sel.unregister(fd)
        os.close(fd)

    def close_all(self) -> None:
        for key in list(self.sel.get_map().values()):
            self._close(key.fd)
        self.sel.close()


class Supervisor:
    """Runs jails at one sandbox level; thread-safe (each run uses its own pipes and slot)."""

    def __init__(self, cfg: SandboxConfig, caps: Capabilities, level: str) -> None:
        self.cfg, self.caps, self.level = cfg, caps, level
        self.pool = jail.SlotPool(cfg, caps.root)
        self._filter = seccomp.build_filter() if cfg.seccomp and caps.seccomp else None

    def run(self, job: dict, secret: dict, stdin: bytes = b"") -> RawRun:
        """One jail run. ``secret`` gets a fresh nonce; the driver sees it only after forking."""
        nonce = secrets.token_hex(16)
        with self.pool.slot() as uid, contextlib.ExitStack() as stack:
            workdir = stack.enter_context(self._workdir(uid)) if self.level == "degraded" else None
            return self._launch(uid, workdir, job, {**secret, "nonce": nonce}, stdin, nonce)

    @contextlib.contextmanager
    def _workdir(self, uid: int | None):  # noqa: ANN202 - a context manager of str
        with tempfile.TemporaryDirectory(prefix="rlvr-jail-") as path:
            if uid is not None:
                os.chown(path, uid, uid)
            os.chmod(path, 0o700)
            yield path

    def _command(self, uid: int | None, fds: tuple[int, int, int], seccomp_fd: int | None,
                 ) -> list[str]:
        # prlimit runs first, still privileged, so it may raise limits a parent process lowered.
        base = [*jail.rlimit_args(self.cfg), *jail.drop_args(uid)]
        if self.level == "full":
            base += jail.bwrap_args(self.cfg, self.caps, seccomp_fd)
        return base + jail.driver_args(self.caps.python, fds)

    def _launch(self, uid: int | None, workdir: str | None, job: dict, secret: dict,
                stdin: bytes, nonce: str) -> RawRun:
        pipes = [os.pipe() for _ in range(6)]  # job, secret, result, stdin, stdout, stderr
        (job_r, job_w), (secret_r, secret_w), (result_r, result_w), (stdin_r, stdin_w), \
            (out_r, out_w), (err_r, err_w) = pipes
        child_fds = [job_r, secret_r, result_w]
        seccomp_fd = None
        if self.level == "full" and self._filter is not None:
            seccomp_fd, filter_w = os.pipe()
            os.write(filter_w, self._filter)  # ~300 bytes: fits the pipe buffer
            os.close(filter_w)
            child_fds.append(seccomp_fd)
        cmd = self._command(uid, (job_r, secret_r, result_w), seccomp_fd)
        env = {**jail.JAIL_ENV, "HOME": workdir or "/tmp"}
        start = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, stdin=stdin_r, stdout=out_w, stderr=err_w,
                                    pass_fds=child_fds, env=env, cwd=workdir,
                                    start_new_session=True)
        except OSError:
            for fd in (job_w, secret_w, result_r, stdin_w, out_r, err_r):
                os.close(fd)
            raise
        finally:
            for fd in (*child_fds, stdin_r, out_w, err_w):
                os.close(fd)
        streams = _Streams(
            readers={out_r: self.cfg.max_output_bytes, err_r: self.cfg.max_output_bytes,
                     result_r: self._result_budget(job)},
            writers={job_w: json.dumps(job).encode(), secret_w: json.dumps(secret).encode(),
                     stdin_w: stdin})
        try:
            raw = self._watch(proc, streams, (out_r, err_r, result_r), nonce, start)
        finally:
            self._kill(proc)
            streams.close_all()
            proc.wait()
        return raw

    def _result_budget(self, job: dict) -> int:
        return (len(job.get("args", [])) + 2) * (self.cfg.max_result_bytes + 4096)

    def _watch(self, proc: subprocess.Popen, streams: _Streams, fds: tuple[int, int, int],
               nonce: str, start: float) -> RawRun:
        raw = RawRun()
        deadline = start + self.cfg.timeout_s
        killed_at: float | None = None
        out_fd, err_fd, result_fd = fds
        parsed = -1
        while streams.open:
            now = time.monotonic()
            if killed_at is None:
                if len(streams.data[result_fd]) != parsed:
                    parsed = len(streams.data[result_fd])
                    raw.records, raw.done = parse_records(streams.data[result_fd], nonce)
                raw.output_limit = bool(streams.overflow & {out_fd, err_fd})
                raw.result_overflow = result_fd in streams.overflow
                raw.timed_out = now >= deadline and not raw.done
                if raw.done or raw.timed_out or raw.output_limit or raw.result_overflow:
                    self._kill(proc)
                    killed_at = now
            elif now - killed_at > _DRAIN_S:
                break
            wait = deadline - now if killed_at is None else _DRAIN_S
            streams.pump(max(min(wait, 0.25), 0.0))
        raw.records, raw.done = parse_records(streams.data[result_fd], nonce)
        raw.started = bytes(streams.data[result_fd]).startswith(START_LINE)
        raw.stdout, raw.stderr = bytes(streams.data[out_fd]), bytes(streams.data[err_fd])
        raw.elapsed_s = time.monotonic() - start
        return raw

    def _kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the jail: its process group (degraded) and bwrap (whose pid namespace follows)."""
        for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL),
                     lambda: os.kill(proc.pid, signal.SIGKILL)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill()


def parse_records(data: bytes | bytearray, nonce: str) -> tuple[list[dict], bool]:
    """Complete JSON lines from the driver that carry ``nonce``; and whether ``done`` arrived."""
    records, done = [], False
    for line in bytes(data).split(b"\n")[1:-1]:  # the first line is the driver's start line
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if type(record) is not dict or record.get("nonce") != nonce:
            continue
        if record.get("kind") == "done":
            done = True
            break
        if record.get("kind") == "case":
            records.append(record)
    return records, done
