"""`rlvr train` on a code task end to end: a tiny random model built in code, the real HF engine,
the reward workers and the real sandbox; verdict counts reach metrics.jsonl."""

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


def test_train_on_code_task_logs_verdicts(tmp_path, tiny_model_dir) -> None:
    try:
        select_level(SandboxConfig(), probe())
    except SandboxUnavailable as err:
        pytest.skip(f"sandbox unavailable: {err}")
    data = tmp_path / "code.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    model = tiny_model_dir
    run_dir = tmp_path / "run"
    code = main(["train", f"model.name={model}", "task.kind=code_file", f"task.path={data}",
                 "task.eval_size=1", "task.scoring.sandbox.timeout_s=3", "steps=2",
                 "rollout.prompts_per_step=2", "rollout.group_size=2", "rollout.max_new_tokens=8",
                 "eval=null", f"log.run_dir={run_dir}",
                 "log.tensorboard=false", "log.progress=false"])
    assert code == 0
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 2
    verdicts = {k for m in metrics for k in m if k.startswith("verdict/")}
    assert verdicts, metrics[0].keys()
    assert verdicts <= {f"verdict/{v}" for v in ("PASS", "FAIL_WRONG", "FAIL_RUNTIME", "TIMEOUT",
                                                   "MEMORY", "OUTPUT_LIMIT", "CRASH_SIGNAL")}
