"""One home for what the CPU can do: its model, the flags that decide the matmul speed (AVX2,
AVX-512, AVX512-BF16, AMX-BF16), torch's CPU capability and thread count. ``rlvr doctor``, the
``rlvr train`` start banner and every benchmark JSON read them from here, so each figure we publish
says which CPU it was measured on, and autocast 'auto' and benchmarks/vs_trl.py --dtype auto pick
bf16 from the same test."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from pathlib import Path

#: /proc/cpuinfo flags that decide how fast fp32 and bf16 matmuls run.
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class CpuFacts:
    model: str  # "model name" of the first processor, else the platform's processor name
    flags: dict[str, bool]  # each of FLAGS -> present on the first processor
    capability: str  # torch.backends.cpu.get_cpu_capability(): the kernels torch dispatches to
    threads: int  # torch.get_num_threads()
    cores: int  # os.cpu_count()
    vendor: str = ""  # "vendor_id" of the first processor (GenuineIntel, AuthenticAMD), or ""

    @property
    def fast_bf16(self) -> bool:
        """AVX512-BF16 or AMX-BF16: bf16 matmuls beat fp32 here (elsewhere ~100x slower)."""
        return has_fast_bf16(self.flags)

    def as_dict(self) -> dict:
        """For benchmark JSONs: every field plus ``fast_bf16``."""
        return {**asdict(self), "fast_bf16": self.fast_bf16}

    def line(self) -> str:
        """One line: 'model, capability, N threads, flags avx2 avx512f ..., bf16 fast|slow'."""
        present = " ".join(f for f in FLAGS if self.flags.get(f)) or "none of " + "/".join(FLAGS)
        bf16 = "bf16 fast" if self.fast_bf16 else "bf16 slow: fp32"
        return (f"{self.model}, {self.capability}, {self.threads} threads of {self.cores} cores, "
                f"flags {present}, {bf16}")


def has_fast_bf16(flags: dict[str, bool]) -> bool:
    """The one test of fast bf16 (autocast 'auto', doctor, benchmarks): AVX512-BF16 or AMX-BF16."""
    return flags.get("avx512_bf16", False) or flags.get("amx_bf16", False)


def parse_cpuinfo(text: str) -> tuple[str | None, dict[str, bool]]:
    """(model name, FLAGS present) of the first processor in a /proc/cpuinfo text."""
    model, flags = None, None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "flags" and flags is None:
            flags = set(value.split())
        if model is not None and flags is not None:
            break
    return model, {f: f in (flags or set()) for f in FLAGS}


def parse_vendor(text: str) -> str:
    """The "vendor_id" of the first processor in a /proc/cpuinfo text, or ''."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "vendor_id":
            return value.strip()
    return ""


def read_cpuinfo() -> str:
    """/proc/cpuinfo's text, or '' where there is none (macOS, Windows)."""
    try:
        return CPUINFO.read_text()
    except OSError:
        return ""


def cpu_facts(cpuinfo: str | None = None) -> CpuFacts:
    """This machine's CpuFacts; ``cpuinfo`` replaces /proc/cpuinfo's text (tests)."""
    import os

    import torch

    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    model, flags = parse_cpuinfo(text)
    return CpuFacts(model=model or platform.processor() or platform.machine(), flags=flags,
                    capability=torch.backends.cpu.get_cpu_capability(),
                    threads=torch.get_num_threads(), cores=os.cpu_count() or 1,
                    vendor=parse_vendor(text))


DTYPES = ("auto", "fp32", "bf16")


def choose_dtype(choice: str, facts: CpuFacts) -> str:
    """'fp32' or 'bf16' for a benchmark's --dtype: 'auto' is bf16 only where the CPU has fast
    bf16 (AVX512-BF16/AMX), fp32 elsewhere; 'fp32' / 'bf16' are taken as they are."""
    if choice not in DTYPES:
        raise ValueError(f"dtype {choice!r}: allowed values are {', '.join(DTYPES)}")
    if choice == "auto":
        return "bf16" if facts.fast_bf16 else "fp32"
    return choice
