"""examples/custom_loop.py (a loop written on rlvr.Session alone) trains the tiny random model:
its reward for answering "7" rises within 8 steps, and it leaves a resumable checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEPS = 8


def test_custom_loop_example_learns(tiny_model_dir, tmp_path):
    # Every prompt's verified answer is 7, in one token: a random char-level model emits it with
    # probability about 1/100, so a group of 16 now and then holds a rewarded sample.
    rows = [{"prompt": f"q{i}: say seven", "reference": "7"} for i in range(40)]
    data = tmp_path / "seven.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "custom_loop.py"), "--config", "",
         "--model", str(tiny_model_dir), "--steps", str(STEPS), "task.kind=file",
         f"task.path={data}", "task.eval_size=8", "rollout.prompts_per_step=4",
         "rollout.group_size=16", "rollout.max_new_tokens=1", "optim.lr=0.05",
         "optim.micro_batch_size=64", "log.tensorboard=false", "log.progress=false",
         f"log.run_dir={run_dir}", "seed=1"],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == list(range(STEPS))
    rewards = [m["reward/mean"] for m in metrics]
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.4, rewards
    assert f"step {STEPS - 1}: reward" in out.stdout
    assert (run_dir / "ckpt" / f"step_{STEPS:08d}" / "model.safetensors").is_file()
