"""Building the jail's command line, and the per-slot uids that jails run under.

Full level, as root:  setpriv (slot uid, no groups, no_new_privs) -> prlimit (rlimits) -> bwrap
(all namespaces, read-only /usr, private size-capped /tmp and /dev/shm, seccomp) -> python -I -S -c
<driver>. Not root: the same without setpriv (the caller's uid is already unprivileged).
Degraded level: setpriv -> prlimit -> python, in a new session and a private work directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rlvr.configs.sandbox import SandboxConfig
from rlvr.sandbox.probe import Capabilities

DRIVER_SOURCE = (Path(__file__).parent / "driver.py").read_text(encoding="utf-8")
JAIL_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1"}
_MIB = 1 << 20


def rlimit_args(cfg: SandboxConfig) -> list[str]:
    """prlimit(1) arguments: soft:hard limits applied to the launched command and its children."""
    cpu = cfg.cpu_limit_s
    return ["prlimit", f"--as={cfg.memory_mb * _MIB}", f"--cpu={cpu}:{cpu + 1}",
            f"--nproc={cfg.max_processes}", f"--nofile={cfg.max_open_files}",
            f"--fsize={cfg.max_file_mb * _MIB}", "--core=0", f"--stack={64 * _MIB}", "--"]


def drop_args(uid: int | None) -> list[str]:
    """setpriv(1) arguments that switch to an unprivileged uid/gid before anything else runs."""
    if uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--"]


def _system_mounts(python: str) -> list[str]:
    """Read-only binds of the runtime: /usr, the top-level links into it, the interpreter prefix."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefix = str(Path(python).parent.parent)
    if prefix != "/usr" and not prefix.startswith("/usr/"):
        args += ["--ro-bind", prefix, prefix]
    return args


def bwrap_args(cfg: SandboxConfig, caps: Capabilities, seccomp_fd: int | None) -> list[str]:
    """bubblewrap arguments for one jail (namespaces, mounts, environment)."""
    args = [caps.bwrap or "bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *_system_mounts(caps.python), "--proc", "/proc", "--dev", "/dev",
            "--size", str(cfg.tmp_mb * _MIB), "--tmpfs", "/tmp",
            "--size", str(cfg.shm_mb * _MIB), "--tmpfs", "/dev/shm",
            "--chdir", "/tmp", "--clearenv", "--setenv", "HOME", "/tmp"]
    for key, value in JAIL_ENV.items():
        args += ["--setenv", key, value]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args


def driver_args(python: str, fds: tuple[int, int, int]) -> list[str]:
    """The trusted driver, passed inline so no host path needs to be readable by the slot uid."""
    return [python, "-I", "-S", "-c", DRIVER_SOURCE, *(str(fd) for fd in fds)]


def uid_processes(uid: int) -> list[int]:
    """Live (not zombie) pids whose real uid is ``uid``; processes that vanish are skipped."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as handle:
                fields = dict(line.split(b":", 1) for line in handle if b":" in line)
            state, real_uid = fields[b"State"].split()[0], int(fields[b"Uid"].split()[0])
        except (OSError, ValueError, KeyError, IndexError):
            continue
        if real_uid == uid and state not in (b"Z", b"X"):
            pids.append(int(entry.name))
    return pids


def kill_uid(uid: int, attempts: int = 50) -> int:
    """Stop, then kill, every process of ``uid`` until none is left. Returns how many were seen."""
    seen = 0
    for _ in range(attempts):
        pids = uid_processes(uid)
        if not pids:
            return seen
        seen += len(pids)
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        time.sleep(0.005)
    return seen


class SlotPool:
    """At most ``cfg.slots`` jails at once on this machine; as root each slot has its own uid
    (uid_base + slot). Slots are claimed with ``flock`` on per-slot lock files, so several
    processes (reward workers) sharing a machine never share a uid."""

    def __init__(self, cfg: SandboxConfig, root: bool) -> None:
        self._slots, self._base, self._root = cfg.slots, cfg.uid_base, root
        self._dir = Path(tempfile.gettempdir()) / f"rlvr-sandbox-slots-{os.geteuid()}-{cfg.uid_base}"
        self._dir.mkdir(mode=0o700, exist_ok=True)

    def _claim(self) -> tuple[int, int]:
        start = random.randrange(self._slots)
        while True:
            for offset in range(self._slots):
                index = (start + offset) % self._slots
                fd = os.open(self._dir / f"{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return index, fd
                except BlockingIOError:
                    os.close(fd)
            time.sleep(0.01)

    @contextlib.contextmanager
    def slot(self) -> Iterator[int | None]:
        """Yield the uid to run as (None when not root); sweep its processes before and after."""
        index, fd = self._claim()
        uid = self._base + index if self._root else None
        try:
            if uid is not None:
                kill_uid(uid)
            yield uid
        finally:
            if uid is not None:
                kill_uid(uid)
            os.close(fd)  # releases the flock
