"""Training keeps going when a verifier raises on some samples (they are masked and counted), and
aborts with a clear message once the infra-error share of a step passes the threshold."""

from __future__ import annotations

import json

from rlvr.cli import main

ROWS = [("What is 2 + 2?", "4"), ("What is 3 + 3?", "6"), ("What is 1 + 5? (flaky)", "6"),
        ("What is 7 + 1?", "8"), ("Held out: 2 + 5?", "7")]


def _run(tmp_path, model, threshold: float, capsys) -> tuple[int, str, list[dict]]:
    data = tmp_path / "math.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": f"#### {a}"}) + "\n" for q, a in ROWS))
    run_dir = tmp_path / f"run-{threshold}"
    code = main(["train", f"model.name={model}", "task.kind=math_file", f"task.path={data}",
                 "task.eval_size=1", "steps=2", "rollout.prompts_per_step=4", "rollout.group_size=2",
                 "rollout.max_new_tokens=6", "eval=null", f"log.run_dir={run_dir}",
                 "log.tensorboard=false", "log.progress=false",
                 "reward.terms=[{name: python, path: 'reward_flaky:flaky'}]",
                 "reward.pool.workers=1", f"reward.max_infra_error_share={threshold}"])
    metrics_file = run_dir / "metrics.jsonl"
    metrics = [json.loads(x) for x in metrics_file.read_text().splitlines()] if metrics_file.exists() else []
    return code, capsys.readouterr().err, metrics


def test_raising_verifier_is_counted_and_training_continues(tmp_path, tiny_model_dir, capsys):
    code, _, metrics = _run(tmp_path, tiny_model_dir, 0.5, capsys)
    assert code == 0 and len(metrics) == 2
    for step in metrics:  # every step holds the flaky row: 2 of its 8 samples are infra errors
        assert step["outcome/infra_error"] == 2 and step["outcome/scored"] == 6
    assert metrics[-1]["outcome/infra_error_total"] == 4


def test_run_aborts_above_the_threshold(tmp_path, tiny_model_dir, capsys):
    code, err, metrics = _run(tmp_path, tiny_model_dir, 0.2, capsys)
    assert code == 3 and metrics == []
    assert "rlvr: aborted: reward: 2 of 8 samples (25%) were infrastructure errors" in err
    assert "max_infra_error_share=0.2" in err and "grading service unreachable" in err
