"""Curriculum and task mixtures on the tiny model: a 3-step run with a step curriculum, a run
with an accuracy curriculum killed with kill -9 mid-window then resumed that selects (and
samples) exactly what the uninterrupted run did, and a 3-step run of a 2-task mixture with
per-task metrics and per-task held-out summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faults_support import metrics, rlvr_train, samples, train_args, write_task

CHAIN = ["task.kind=reasoning_gym", "task.name=chain_sum", "task.train_size=6",
         "task.eval_size=2", "task.extract=last_number",
         "task.params={min_digits: 1, max_digits: 1}"]


def chain_args(model: Path, run_dir: Path, steps: int, every: int) -> list[str]:
    """The fault tests' tiny run, on reasoning-gym chain sums instead of a file."""
    base = [a for a in train_args(model, Path("unused.jsonl"), run_dir, steps, every)
            if not a.startswith("task.")]
    return base + CHAIN


def logged(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_step_curriculum_three_steps(tmp_path, tiny_model_dir):
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    run_dir = tmp_path / "run"
    curriculum = ("data.curriculum={name: steps, stages: [{params: {min_terms: 2, max_terms: 2},"
                  " until_step: 2}, {params: {min_terms: 3, max_terms: 3}}]}")
    train(load_config(None, chain_args(tiny_model_dir, run_dir, 3, 0) + [curriculum]))
    rows = logged(run_dir)
    assert [r["curriculum/stage"] for r in rows] == [0.0, 0.0, 1.0]
    assert all(0 <= r["curriculum/window_accuracy"] <= 1 for r in rows)
    drawn = [(json.loads(line)["step"], json.loads(line)["row_id"])
             for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert {rid.split("/")[0] for step, rid in drawn if step < 2} == {"stage0"}
    assert {rid.split("/")[0] for step, rid in drawn if step == 2} == {"stage1"}
    trainer = json.loads((run_dir / "ckpt" / "step_00000003" / "trainer.json").read_text())
    assert trainer["prompts"]["curriculum"]["stage"] == 1
    assert [s["draws"] for s in trainer["prompts"]["stages"]] == [2, 1]


def test_kill_and_resume_continue_the_same_curriculum(tmp_path, tiny_model_dir):
    # advance_at 0: the stage moves on each time the 3-step window is full (steps 0-2, 3-...)
    curriculum = ["data.curriculum={name: accuracy, advance_at: 0.0, window: 3, stages: "
                  "[{params: {min_terms: 2, max_terms: 2}}, {params: {min_terms: 3, "
                  "max_terms: 3}}]}"]
    reference = tmp_path / "reference"
    done = rlvr_train(chain_args(tiny_model_dir, reference, 4, 2) + curriculum)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "run"
    args = chain_args(tiny_model_dir, run_dir, 4, 2) + curriculum
    killed = rlvr_train(args, fault="stage:reward:4")  # kill -9 in step 3; checkpoint of 2 kept
    assert killed.returncode == -9, killed.stderr[-3000:]
    saved = json.loads((run_dir / "ckpt" / "step_00000002" / "trainer.json").read_text())
    assert saved["prompts"]["curriculum"]["stage"] == 0  # mid-window: 2 of 3 steps in it
    assert len(saved["prompts"]["curriculum"]["window"]) == 2
    resumed = rlvr_train(args + ["--resume", str(run_dir)])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert samples(run_dir) == samples(reference)  # same prompts, completions, rewards
    stages = [r["curriculum/stage"] for r in metrics(reference)]
    assert stages == [0.0, 0.0, 0.0, 1.0]
    assert [r["curriculum/stage"] for r in metrics(run_dir)][-2:] == stages[-2:]
    final = [json.loads((d / "ckpt" / "step_00000004" / "trainer.json").read_text())["prompts"]
             for d in (run_dir, reference)]
    assert final[0] == final[1]


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("mixture-data") / "sums.jsonl", train_rows=6)


def test_two_task_mixture_three_steps(tmp_path, tiny_model_dir, task_file):
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    run_dir = tmp_path / "run"
    mixture = ("task={kind: mixture, tasks: ["
               f"{{task: {{kind: file, path: '{task_file}', eval_size: 2}}, weight: 0.7, "
               "label: sums}, {task: {kind: reasoning_gym, name: chain_sum, train_size: 6, "
               "eval_size: 2, extract: last_number}, weight: 0.3, label: chain}]}")
    args = [a for a in train_args(tiny_model_dir, task_file, run_dir, 3, 0)
            if not a.startswith(("task.", "reward.terms", "eval="))]
    train(load_config(None, args + [mixture, "rollout.prompts_per_step=4",
                                    "eval={before: true, after: true}"]))
    rows = logged(run_dir)
    assert [r["step"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert row["task/sums/prompts"] + row["task/chain/prompts"] == 4
        for label in ("sums", "chain"):
            if row[f"task/{label}/prompts"]:
                assert 0 <= row[f"task/{label}/accuracy"] <= 1
                assert f"task/{label}/reward_mean" in row
    drawn = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert {d["row_id"].split(":")[0] for d in drawn} <= {"sums", "chain"}
    for label in ("before", "after"):
        summary = json.loads((run_dir / f"eval_{label}.json").read_text())["summary"]
        assert sorted(summary["tasks"]) == ["chain", "sums"]
        assert summary["tasks"]["sums"]["num_prompts"] == 2
        assert summary["tasks"]["chain"]["num_prompts"] == 2 and summary["num_prompts"] == 4


@pytest.mark.slow  # ~60-90 s on 2 cores; the curriculum's kill/resume test runs by default
def test_kill_and_resume_continue_the_same_mixture_draws(tmp_path, tiny_model_dir, task_file):
    mixture = [("task={kind: mixture, tasks: ["
                f"{{task: {{kind: file, path: '{task_file}', eval_size: 2}}, weight: 0.5, "
                "label: sums}, {task: {kind: reasoning_gym, name: chain_sum, train_size: 6, "
                "eval_size: 2, extract: last_number}, weight: 0.5, label: chain}], "
                "weight_schedule: [{until_step: 1, weights: [1, 0]}]}")]
    base = [a for a in train_args(tiny_model_dir, task_file, tmp_path, 4, 2)
            if not a.startswith(("task.", "log.run_dir"))] + mixture
    reference = tmp_path / "reference"
    done = rlvr_train(base + [f"log.run_dir={reference}"])
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "run"
    args = base + [f"log.run_dir={run_dir}"]
    killed = rlvr_train(args, fault="stage:reward:4")  # kill -9 in step 3; checkpoint of 2 kept
    assert killed.returncode == -9, killed.stderr[-3000:]
    resumed = rlvr_train(args + ["--resume", str(run_dir)])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    drawn = samples(reference)
    assert samples(run_dir) == drawn
    assert {rid.split(":")[0] for step, rid, _, _ in drawn if step == 0} == {"sums"}
    assert {rid.split(":")[0] for step, rid, _, _ in drawn} == {"sums", "chain"}
    final = [json.loads((d / "ckpt" / "step_00000004" / "trainer.json").read_text())["prompts"]
             for d in (run_dir, reference)]
    assert final[0] == final[1] and final[0]["mixture"]["draws"] == 4
