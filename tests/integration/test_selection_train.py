"""Prompt-selection policies on the tiny model: a 3-step run of each, and a run killed with
kill -9 then resumed that selects (and samples) exactly what the uninterrupted run did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faults_support import rlvr_train, samples, train_args, write_task

POLICIES = ["uniform", "{name: band, low: 0.2, high: 0.8}", "{name: variance, floor: 0.05}",
            "{name: retire, threshold: 0.5, min_seen: 1, revisit_rate: 0.3}"]


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("select-data") / "sums.jsonl", train_rows=6)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.split(",")[0].strip("{name: "))
def test_three_step_run_logs_selection_metrics(policy, tmp_path, tiny_model_dir, task_file):
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    run_dir = tmp_path / "run"
    args = train_args(tiny_model_dir, task_file, run_dir, steps=3, every=0)
    train(load_config(None, args + [f"data.selection={policy}"]))
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert rows[0]["select/unseen_share"] == pytest.approx(4 / 6)  # 2 of 6 prompts scored
    assert all(0 <= r["select/mean_pass_ema"] <= 1 for r in rows)
    assert rows[-1]["select/unseen_share"] <= rows[0]["select/unseen_share"]
    if "retire" in policy:
        assert all("select/retired_share" in r for r in rows)
    trainer = json.loads((run_dir / "ckpt" / "step_00000003" / "trainer.json").read_text())
    assert trainer["prompts"]["draws"] == 3 and len(trainer["prompts"]["history"]) >= 2


def test_kill_and_resume_continue_the_same_selection(tmp_path, tiny_model_dir, task_file):
    policy = ["data.selection={name: variance, floor: 0.05}"]
    reference = tmp_path / "reference"
    done = rlvr_train(train_args(tiny_model_dir, task_file, reference, steps=5) + policy)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "run"
    args = train_args(tiny_model_dir, task_file, run_dir, steps=5) + policy
    killed = rlvr_train(args, fault="stage:reward:4")  # kill -9 in step 3, checkpoint of 2 kept
    assert killed.returncode == -9, killed.stderr[-3000:]
    resumed = rlvr_train(args + ["--resume", str(run_dir)])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert samples(run_dir) == samples(reference)  # same prompts, completions, rewards
    final = [json.loads((d / "ckpt" / "step_00000005" / "trainer.json").read_text())["prompts"]
             for d in (run_dir, reference)]
    assert final[0] == final[1]
