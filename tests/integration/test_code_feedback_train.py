"""A tiny model trains 2 steps on a small code task with env.name=code_feedback: the reward
workers and the real sandbox score every attempt, and a wrong one gets a feedback turn."""

from __future__ import annotations

import json

import pytest

from rlvr.cli import main
from rlvr.sandbox import SandboxConfig, SandboxUnavailable
from rlvr.sandbox.probe import probe
from rlvr.sandbox.runner import select_level

PROBLEMS = [
    {"prompt": "Write add(a, b) returning a + b.", "entry_point": "add",
     "cases": [{"args": [1, 2], "expected": 3}, {"args": [5, 5], "expected": 10}]},
    {"prompt": "Write neg(x) returning -x.", "entry_point": "neg",
     "cases": [{"args": [1], "expected": -1}]},
    {"prompt": "Read two integers and print their sum.",
     "stdio": [{"stdin": "2 3\n", "stdout": "5\n"}]},
]


def test_code_feedback_trains_two_steps(tmp_path, tiny_model_dir) -> None:
    try:
        select_level(SandboxConfig(), probe())
    except SandboxUnavailable as err:
        pytest.skip(f"sandbox unavailable: {err}")
    data = tmp_path / "code.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    run_dir = tmp_path / "run"
    code = main(["train", f"model.name={tiny_model_dir}", "task.kind=code_file",
                 f"task.path={data}", "task.eval_size=1", "task.scoring.sandbox.timeout_s=3",
                 "env.name=code_feedback", "env.max_turns=2", "env.max_total_tokens=200",
                 "env.sandbox.timeout_s=3", "steps=2", "rollout.prompts_per_step=2",
                 "rollout.group_size=2", "rollout.max_new_tokens=8", "eval=null",
                 f"log.run_dir={run_dir}", "log.tensorboard=false", "log.progress=false"])
    assert code == 0
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [0, 1]
    assert all(1.0 <= m["episode/turns_mean"] <= 2.0 for m in metrics)
    assert any(m["episode/turns_mean"] > 1.0 for m in metrics)  # a random model writes no code
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    feedback = [seg["text"] for s in samples for seg in s["transcript"] if seg["source"] == "env"]
    assert feedback and all("Your code failed the tests.\n" in t for t in feedback)
