"""Sandbox limits and switches (config key ``task.sandbox`` on code tasks; see docs/sandbox.md)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from rlvr.configs.base import Node

StdioCompare = Literal["exact", "lines", "tokens"]
"""How a program's stdout is compared with the expected output."""


class SandboxConfig(Node):
    """Limits of one jail run. Every candidate run gets a fresh jail with these limits."""

    timeout_s: float = Field(4.0, gt=0)
    """Wall-clock deadline of one jail run, enforced by the supervisor with SIGKILL."""
    cpu_s: int | None = Field(None, ge=1)
    """RLIMIT_CPU per process; defaults to ceil(timeout_s) + 1 (the wall clock usually fires first)."""
    memory_mb: int = Field(1024, ge=64)
    """RLIMIT_AS (virtual address space) per process."""
    max_processes: int = Field(32, ge=4)
    """RLIMIT_NPROC for the slot uid (processes and threads). Enforced when running as root, where
    each slot has its own uid; see docs/sandbox.md for non-root use."""
    max_open_files: int = Field(64, ge=16)
    """RLIMIT_NOFILE per process."""
    max_file_mb: int = Field(16, ge=1)
    """RLIMIT_FSIZE: largest single file the candidate may write."""
    tmp_mb: int = Field(64, ge=1)
    """Size of the private tmpfs mounted at /tmp (the candidate's working directory)."""
    shm_mb: int = Field(16, ge=1)
    """Size of the private tmpfs mounted at /dev/shm."""
    max_output_bytes: int = Field(1 << 20, ge=1024)
    """Budget for each of stdout and stderr; beyond it the jail is killed (OUTPUT_LIMIT)."""
    max_result_bytes: int = Field(1 << 20, ge=1024)
    """Largest encoded return value of one call."""
    level: Literal["auto", "full", "degraded"] = "auto"
    """'auto' uses the strongest level the probe finds; 'full' fails when it is missing."""
    allow_degraded: bool = False
    """Run with rlimits + uid + session only when bubblewrap/user namespaces are missing."""
    seccomp: bool = True
    """Deny dangerous syscalls (ptrace, io_uring, bpf, inet sockets, ...) on x86_64."""
    uid_base: int = Field(61000, ge=1000)
    """When running as root, slot k runs as uid/gid uid_base + k."""
    slots: int = Field(16, ge=1, le=1024)
    """Maximum jails running at the same time (one uid each)."""
    python: str = "auto"
    """Interpreter used inside the jail; 'auto' picks the running one if the slot uid can read it,
    else /usr/bin/python3. Only the standard library is available to candidates."""

    @property
    def cpu_limit_s(self) -> int:
        return self.cpu_s if self.cpu_s is not None else math.ceil(self.timeout_s) + 1
