"""Capability probe: which sandbox level this machine supports, and a fingerprint for run metadata.

Levels (strongest first):
* ``full``     - bubblewrap with user, pid, net, ipc, uts and mount namespaces, read-only system,
                 private size-capped tmpfs, rlimits, a per-slot uid when running as root, seccomp;
* ``degraded`` - no namespaces: rlimits, a new session, a per-slot uid when root, a private work
                 directory. No network or filesystem isolation. Used only if the config allows it.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Literal

from rlvr.sandbox import seccomp

Level = Literal["full", "degraded", "none"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capabilities:
    """What the probe found. ``level`` is the strongest level usable here."""

    level: Level
    bwrap: str | None
    bwrap_version: str | None
    userns: bool
    root: bool
    setpriv: bool
    prlimit: bool
    seccomp: bool
    python: str
    reason: str

    def fingerprint(self) -> dict[str, object]:
        """A plain dict for run metadata and checkpoints."""
        return asdict(self)


def readable_by_others(path: str) -> bool:
    """True when every directory above ``path`` is world-traversable and the file world-readable."""
    real = os.path.realpath(path)
    parts = real.split("/")
    for depth in range(2, len(parts)):
        if not os.stat("/".join(parts[:depth])).st_mode & 0o001:
            return False
    return bool(os.stat(real).st_mode & 0o004)


def choose_python(setting: str = "auto") -> str:
    """The interpreter the jail runs (the real path; only its standard library is used)."""
    if setting != "auto":
        return os.path.realpath(setting)
    own = os.path.realpath(sys.executable)
    if os.geteuid() != 0 or readable_by_others(own):
        return own
    return os.path.realpath("/usr/bin/python3")


def _bwrap_works(bwrap: str, python: str) -> tuple[bool, str]:
    """Start one real jail (as an unprivileged uid when root) and check that it runs."""
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] \
        if os.geteuid() == 0 else []
    cmd = [*drop, bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
           "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
           python, "-I", "-S", "-c", "pass"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"bwrap did not start: {err}"
    if proc.returncode != 0:
        return False, "bwrap failed: " + proc.stderr.decode(errors="replace").strip()[:200]
    return True, "bwrap with user namespaces works"


@functools.lru_cache(maxsize=4)
def probe(python_setting: str = "auto") -> Capabilities:
    """Probe once per process (cached): tools present, user namespaces usable, level."""
    bwrap = shutil.which("bwrap")
    root = os.geteuid() == 0
    python = choose_python(python_setting)
    version = None
    ok, reason = False, "bubblewrap (bwrap) not found; install the Debian package 'bubblewrap'"
    if bwrap:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, check=False)
        version = out.stdout.strip() or None
        ok, reason = _bwrap_works(bwrap, python)
    has_prlimit = shutil.which("prlimit") is not None
    has_setpriv = shutil.which("setpriv") is not None
    level: Level = "full" if ok and has_prlimit and (has_setpriv or not root) else \
        "degraded" if has_prlimit else "none"
    caps = Capabilities(level=level, bwrap=bwrap, bwrap_version=version, userns=ok, root=root,
                        setpriv=has_setpriv, prlimit=has_prlimit, seccomp=seccomp.supported(),
                        python=python, reason=reason)
    log.info("sandbox probe: level=%s (%s)", level, reason)
    return caps
