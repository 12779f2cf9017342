"""RL makes a tiny random model learn a tiny verifiable task (reward and held-out accuracy rise)."""

from __future__ import annotations

import json

from rlvr import cli


def test_tiny_model_learns_to_answer_seven(tiny_model_dir, tmp_path):
    # Every prompt's verified answer is 7, in one token; a random char-level model emits "7"
    # with probability about 1/100 at first.
    rows = [{"prompt": f"q{i}: say seven", "reference": "7"} for i in range(40)]
    data = tmp_path / "seven.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_dir = tmp_path / "run"
    code = cli.main([
        "train", f"model.name={tiny_model_dir}", "task.kind=file", f"task.path={data}",
        "task.eval_size=8", "steps=20", "rollout.prompts_per_step=4", "rollout.group_size=8",
        "rollout.max_new_tokens=1", "optim.lr=0.02", "optim.micro_batch_size=32",
        "log.progress=false", "log.tensorboard=false", f"log.run_dir={run_dir}", "seed=1"])
    assert code == 0
    metrics = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    first = sum(m["reward/mean"] for m in metrics[:5]) / 5
    last = sum(m["reward/mean"] for m in metrics[-5:]) / 5
    assert last > first + 0.3, (first, last)
    before, after = (json.loads((run_dir / f"eval_{label}.json").read_text())
                     ["summary"]["greedy_accuracy"]["value"] for label in ("before", "after"))
    assert after >= before + 0.5, (before, after)
