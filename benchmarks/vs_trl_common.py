"""Pieces shared by both workers of benchmarks/vs_trl.py (the rlvr-vs-TRL benchmark): the work's
config, the driver pipe and the per-step probe."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "vs_trl.json"
QUICKSTART = ROOT / "configs" / "quickstart.yaml"
MODEL = "smollm2-135m-instruct"
FRAMEWORKS = ("trl", "rlvr")


# ---- shared by both workers --------------------------------------------------------------------


def work_overrides(args: argparse.Namespace, run_dir: Path) -> list[str]:
    """The quickstart config narrowed to the benchmark's work (rlvr's config is the source)."""
    return [f"steps={args.steps}", f"model.name={MODEL}", "model.dtype=float32",
            f"model.autocast={'bf16' if args.dtype == 'bf16' else 'off'}",
            "rollout.prompts_per_step=4", "rollout.group_size=8",
            f"rollout.max_new_tokens={args.max_new_tokens}", "rollout.temperature=1.0",
            "rollout.top_p=1.0", "optim.lr=1e-5", "optim.warmup_steps=0",
            f"optim.micro_batch_size={args.micro_batch}", "algorithm=grpo", "eval=null",
            "checkpoint.every=0", "log.tensorboard=false", "log.progress=false",
            f"log.run_dir={run_dir}", f"rollout.engine.weights={args.rlvr_weights}"]


def load_work_config(args: argparse.Namespace, run_dir: Path):
    from rlvr.config import load_config

    return load_config(QUICKSTART, work_overrides(args, run_dir))


def digest(obj) -> str:
    return hashlib.sha1(json.dumps(obj).encode()).hexdigest()[:12]


def peak_rss_mib() -> dict[str, float]:
    """VmHWM of this process, and that plus the VmHWM of every descendant (reward workers)."""
    own = _vm_hwm_kib(os.getpid())
    children = sum(_vm_hwm_kib(pid) for pid in _descendants(os.getpid()))
    return {"process": own / 1024, "with_children": (own + children) / 1024}


def _vm_hwm_kib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


class Channel:
    """The worker's side of the driver pipe. Protocol lines go to a private copy of stdout;
    fd 1 itself is pointed at stderr, so library prints never corrupt the protocol."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message) + "\n")

    def wait(self) -> str:
        """The driver's next command: 'step' or 'stop'."""
        line = sys.stdin.readline()
        return line.strip() or "stop"


class StepProbe:
    """Stage seconds and token counts of the step in progress."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.stages: dict[str, float] = {}
        self.tokens: dict[str, int] = {}
        self.extra: dict = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start

    def count(self, prompts: list[list[int]], completions: list[list[int]], group_size: int,
              prompt_once_per_group: bool) -> None:
        """Generated tokens, and the tokens that go through the training forward + backward."""
        generated = sum(len(c) for c in completions)
        prompt_tokens = sum(len(p) for p in prompts)
        if prompt_once_per_group:
            prompt_tokens //= group_size
        self.tokens = {"generated": generated, "trained": prompt_tokens + generated,
                       "prompt_trained": prompt_tokens}
        self.extra["prompts_digest"] = digest([list(p) for p in prompts[::group_size]])
