"""A small seccomp-bpf deny-list, built by hand (no libseccomp needed) and loaded by bwrap --seccomp.

x86_64 only: other architectures get no filter and the probe reports ``seccomp=False``.
Denied with EPERM: every syscall of a foreign ABI (i386, x32), the syscalls below, and ``socket``
for any family other than AF_UNIX. Everything else is allowed.
"""

from __future__ import annotations

import platform
import struct

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | 1
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_AF_UNIX = 1
_SOCKET = 41

DENIED_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "keyctl": 250, "add_key": 248, "request_key": 249,
    "mount": 165, "umount2": 166, "pivot_root": 155, "setns": 308, "unshare": 272,
    "fsopen": 430, "fsmount": 432, "open_tree": 428, "move_mount": 429,
    "personality": 135, "kexec_load": 246, "kexec_file_load": 320,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "swapon": 167, "swapoff": 168,
}


def supported() -> bool:
    return platform.machine() in ("x86_64", "AMD64")


def build_filter() -> bytes:
    """The BPF program as raw ``struct sock_filter`` records (the format bwrap reads)."""
    denied = sorted(DENIED_X86_64.values())
    # Layout: 0 ld arch | 1 jeq arch | 2 ld nr | 3 jge x32 | denied jeqs | jeq socket | ld arg0 |
    # jeq AF_UNIX | ALLOW | DENY.  Jump offsets count from the next instruction.
    n_deny = len(denied)
    allow = 4 + n_deny + 3
    deny = allow + 1
    prog: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, 4),                              # seccomp_data.arch
        (_JEQ_K, 0, deny - 2, _AUDIT_ARCH_X86_64),
        (_LD_W_ABS, 0, 0, 0),                              # seccomp_data.nr
        (_JGE_K, deny - 4, 0, _X32_BIT),
    ]
    for i, nr in enumerate(denied):
        pc = 4 + i
        prog.append((_JEQ_K, deny - pc - 1, 0, nr))
    pc = 4 + n_deny
    prog.append((_JEQ_K, 0, allow - pc - 1, _SOCKET))
    prog.append((_LD_W_ABS, 0, 0, 16))                     # low 32 bits of args[0] (the family)
    prog.append((_JEQ_K, allow - (pc + 2) - 1, deny - (pc + 2) - 1, _AF_UNIX))
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    prog.append((_RET_K, 0, 0, _RET_EPERM))
    return b"".join(struct.pack("<HBBI", *ins) for ins in prog)
