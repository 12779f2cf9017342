"""3-step runs on the tiny model of each sampling option: an EAD temperature schedule,
oversampling, and a group decoded in chunks of rows (docs/data.md "Sampling schedules")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faults_support import samples, train_args, write_task


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("schedule-data") / "sums.jsonl", train_rows=6)


def _run(tiny_model_dir, task_file, run_dir, extra: list[str]) -> list[dict]:
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    args = train_args(tiny_model_dir, task_file, run_dir, steps=3, every=0)
    train(load_config(None, args + extra))
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2]
    return rows


def test_ead_run_scores_each_token_at_its_temperature(tmp_path, tiny_model_dir, task_file):
    rows = _run(tiny_model_dir, task_file, tmp_path / "run",
                ["rollout.temperature_schedule={name: ead, start: 1.5, end: 0.7, decay: 2}",
                 "rollout.max_new_tokens=6", "model.autocast=off"])  # fp32: an exact gap
    # before the first optimizer step the trainer's logprobs are the sampler's: the per-token
    # temperatures reached the trainer (without them, at temperature 1, the gap here is ~0.02)
    assert rows[0]["update/sampler_logprob_gap"] < 1e-4
    assert all(r["loss"] == r["loss"] for r in rows)  # finite


def test_oversampled_run_keeps_g_per_group(tmp_path, tiny_model_dir, task_file):
    run_dir = tmp_path / "run"
    rows = _run(tiny_model_dir, task_file, run_dir,
                ["rollout.oversample={factor: 3, keep: balanced}"])
    for r in rows:
        assert r["rollout/oversample_kept_share"] == pytest.approx(1 / 3)
        assert r["rollout/oversample_mixed_share_kept"] >= r["rollout/oversample_mixed_share_sampled"]
    per_step = [s[0] for s in samples(run_dir)]
    assert [per_step.count(step) for step in range(3)] == [4, 4, 4]  # 2 prompts x G=2 kept


def test_oversampled_first_keeps_what_plain_sampling_draws(tmp_path, tiny_model_dir, task_file):
    temps = ["rollout.temperatures=[0.6, 1.3]"]  # each block of G samples gets both
    plain, first = tmp_path / "plain", tmp_path / "first"
    _run(tiny_model_dir, task_file, plain, temps)
    _run(tiny_model_dir, task_file, first, temps + ["rollout.oversample={factor: 2, keep: first}"])
    assert samples(first) == samples(plain)  # per-sample streams: samples 0..G-1 are the same


def test_chunked_group_run_samples_what_the_whole_group_does(tmp_path, tiny_model_dir, task_file):
    group = ["rollout.group_size=5", "rollout.engine.decoder=static"]
    whole = tmp_path / "whole"
    chunked = tmp_path / "chunked"
    _run(tiny_model_dir, task_file, whole, group)
    _run(tiny_model_dir, task_file, chunked, group + ["rollout.engine.max_batch_rows=2"])
    assert samples(chunked) == samples(whole)  # same completions and rewards, every step
