"""Helpers of the fault-injection tests: a tiny file task, `rlvr train` in a real subprocess
(killed for real by RLVR_FAULT, see runs/faultpoints.py), and readers of what a run left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
VOLATILE = ("time/", "throughput/")  # wall-clock metrics differ between any two runs


def write_task(path: Path, train_rows: int = 4, eval_rows: int = 2) -> Path:
    """``train_rows`` arithmetic prompts plus ``eval_rows`` held out (the last rows)."""
    with path.open("w") as fh:
        for i in range(train_rows + eval_rows):
            fh.write(json.dumps({"prompt": f"{i} + {i} = ?", "reference": str(2 * i)}) + "\n")
    return path


def train_args(model: Path, data: Path, run_dir: Path, steps: int = 6, every: int = 2) -> list[str]:
    return [f"model.name={model}", "task.kind=file", f"task.path={data}", "task.eval_size=2",
            f"steps={steps}", "rollout.prompts_per_step=2", "rollout.group_size=2",
            "rollout.max_new_tokens=4", "eval=null", f"log.run_dir={run_dir}",
            "log.tensorboard=false", "log.progress=false", "log.samples_every=1",
            f"checkpoint.every={every}", "checkpoint.keep_last=2", "reward.pool.workers=1",
            "reward.pool.deadline_s=120",  # a verifier timeout depends on the clock, not the seed
            "reward.terms=[{name: python, path: 'reward_toy:digits'}]", "optim.lr=0.01",
            "reliability.deterministic=true", "seed=3"]


def env(fault: str | None = None, signal: str | None = None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("RLVR_FAULT")}
    out["PYTHONPATH"] = os.pathsep.join([str(HERE), out.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if fault:
        out["RLVR_FAULT"] = fault
    if signal:
        out["RLVR_FAULT_SIGNAL"] = signal
    return out


def rlvr_train(args: list[str], fault: str | None = None, signal: str | None = None,
               timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlvr.cli", "train", *args], env=env(fault, signal),
                          capture_output=True, text=True, timeout=timeout)


def metrics(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if not k.startswith(VOLATILE)} for row in rows]


def samples(run_dir: Path) -> list[tuple]:
    lines = (run_dir / "samples.jsonl").read_text().splitlines()
    return [(r["step"], r["row_id"], r["completion"], r["reward"]) for r in map(json.loads, lines)]


def tensors(run_dir: Path, step: int, name: str) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "ckpt" / f"step_{step:08d}" / f"{name}.safetensors"))


def assert_identical(a: dict, b: dict) -> None:
    import torch

    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs"
