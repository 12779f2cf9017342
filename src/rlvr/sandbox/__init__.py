"""Sandbox for model-written code: one fresh jail per candidate run, verdicts computed outside it.

Threat model (details and the tests that hold each promise: docs/sandbox.md, tests/unit/sandbox/).

Protected, at the ``full`` level (bubblewrap + unprivileged per-slot uid + rlimits + seccomp):
* the host and the trainer: no network (own net namespace, inet sockets denied), read-only system,
  only /usr and the interpreter mounted, no /etc, /home, /root or host /tmp; private /tmp and
  /dev/shm tmpfs with size caps; own pid namespace (no host processes visible or signalable; every
  descendant dies with the jail); an unprivileged uid per slot, no capabilities, no_new_privs, no
  nested user namespaces; ptrace, bpf, io_uring, perf, keyctl, mount, unshare denied;
* resources: address space, CPU seconds, processes/threads (per slot uid), file size, open files,
  no core dumps; a wall-clock deadline enforced by the supervisor with SIGKILL of the whole jail;
  stdout/stderr read with byte budgets (overflow kills the jail);
* the verdict: the candidate never sees expected values or hidden test code; results travel over a
  pipe the candidate cannot reach, carry a per-run nonce and are decoded as plain data with bounded
  size and depth; equality is type-strict and computed by the supervisor; a pass needs a record for
  every case plus the driver's ``done`` record, so exit codes, printed banners, patched test
  frameworks, always-equal objects and files in the work directory earn nothing.

Not protected:
* kernel exploits and side channels (a namespace jail shares the host kernel);
* CPU and memory contention: many jails at once slow each other; limits are per process (RLIMIT_AS
  is virtual memory), not a cgroup budget;
* at the ``degraded`` level (no bubblewrap or user namespaces): no network or filesystem isolation
  and no pid namespace - only rlimits, a new session, a per-slot uid when root and a private work
  directory. It is used only when the config allows it, and the level is logged;
* when not running as root, all slots share the caller's uid, so RLIMIT_NPROC counts the caller's
  own processes too (see docs/sandbox.md).
"""

from rlvr.configs.sandbox import SandboxConfig
from rlvr.sandbox.runner import CallCase, RunOutcome, Sandbox, SandboxUnavailable, StdioCase
from rlvr.sandbox.verdicts import Verdict

__all__ = ["CallCase", "RunOutcome", "Sandbox", "SandboxConfig", "SandboxUnavailable",
           "StdioCase", "Verdict"]
