"""A tiny training run logs exactly the diagnostics `rlvr report` expects, and its before / after
evaluations are `rlvr eval` result files (one evaluator, one format)."""

from __future__ import annotations

import json

import pytest

from rlvr.cli_eval import main as eval_main
from rlvr.config import load_config
from rlvr.eval.diagnostics import EXPECTED_DIAGNOSTICS, diagnostic_keys
from rlvr.eval.results import FORMAT, load_result
from rlvr.trainer.loop import train

# What every expected diagnostic matches in the run below (prorl: KL on, clipped objective).
EMITTED = {
    "reward": ["reward/mean"], "reward components": ["reward/digit_share"],
    "accuracy": ["accuracy"], "token entropy": ["update/entropy"],
    "completion length (mean)": ["completion/len_mean"],
    "completion length (max)": ["completion/len_max"],
    "share truncated": ["completion/truncated_share"],
    "clip fraction (low)": ["update/clip_frac_low"],
    "clip fraction (high)": ["update/clip_frac_high"], "KL to reference": ["update/kl"],
    "zero-variance groups": ["groups/zero_variance_share"], "gradient norm": ["grad_norm"],
    "learning rate": ["lr"], "sampler-vs-trainer logprob gap": ["update/sampler_logprob_gap"],
    "tokens per second": ["throughput/tokens_per_s"], "time: rollout": ["time/rollout"],
    "time: reward": ["time/reward"], "time: update": ["time/update"],
    "time: weight sync": ["time/weight_sync"],
}


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("diag") / "run"
    train(load_config(None, [
        f"model.name={tiny_model_dir}", "model.autocast='off'", "algorithm=prorl", "steps=2",
        "task.train_size=40", "task.eval_size=3", "rollout.prompts_per_step=2",
        "rollout.group_size=3", "rollout.max_new_tokens=4", "optim.micro_batch_size=4",
        "reward.terms=[{name: python, path: 'reward_digits:digit_share'}]",
        "reward.pool.workers=1", f"log.run_dir={run_dir}", "log.tensorboard=false",
        "log.progress=false", "checkpoint.every=0"]))
    return run_dir


def test_emitted_diagnostics_equal_the_checklist(run_dir):
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert set(EMITTED) == set(EXPECTED_DIAGNOSTICS)
    for row in lines:
        assert diagnostic_keys(row) == EMITTED, row["step"]


def test_before_and_after_are_rlvr_eval_files(run_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "cli.json"
    assert eval_main(["eval", "--model", str(tiny_model_dir), "--task", "chain_sum", "--n", "1",
                      "--prompts", "2", "--max-new-tokens", "4", "--quiet", "--out", str(out),
                      "task.train_size=20", "model.autocast='off'",
                      "reward.pool.deadline_s=120"]) == 0
    cli = json.loads(out.read_text())
    for label in ("before", "after"):
        trained = json.loads((run_dir / f"eval_{label}.json").read_text())
        assert trained["format"] == cli["format"] == FORMAT and trained["status"] == "complete"
        assert set(trained) == set(cli)
        assert set(trained["settings"]) == set(cli["settings"]) - {"context"}
        assert set(trained["prompts"][0]) == set(cli["prompts"][0])
        assert set(trained["summary"]) >= {"num_prompts", "pass@k", "maj@k", "greedy_accuracy"}
        result = load_result(run_dir / f"eval_{label}.json")
        greedy = [p.greedy_correct for p in result.prompts]
        assert len(greedy) == 3 and result.settings["greedy"] and result.settings["n"] == 1
        assert result.summary["greedy_accuracy"]["value"] == pytest.approx(sum(greedy) / 3)
    assert "held-out (greedy)" in (run_dir / "eval_summary.txt").read_text()
    assert eval_main(["compare", str(run_dir / "eval_before.json"),
                      str(run_dir / "eval_after.json"), "--out", str(tmp_path / "cmp")]) == 0
