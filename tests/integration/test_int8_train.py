"""`rlvr train` with an int8 rollout copy (rollout.engine.weights=int8) on a tiny model: it trains,
logs the sampler-logprob gap that the off-policy weight corrects, and a resume is identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from faults_support import metrics, train_args, write_task

INT8 = ["rollout.engine.weights=int8"]


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("int8-data") / "sums.jsonl")


def _train(args: list[str], resume: bool = False) -> dict:
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    return train(load_config(None, args), resume=resume)


def test_int8_rollouts_train_log_the_gap_and_resume_identically(tmp_path, tiny_model_dir,
                                                                  task_file):
    whole = tmp_path / "whole"
    _train(train_args(tiny_model_dir, task_file, whole, steps=3, every=1) + INT8)
    rows = metrics(whole)
    assert len(rows) == 3
    gaps = [r["update/sampler_logprob_gap"] for r in rows]
    assert all(0 < g < 1 for g in gaps), gaps  # int8 sampler vs fp32 trainer: close, not equal
    assert all("update/is_weight" in r for r in rows)  # the correction that int8 requires is on
    cut = tmp_path / "cut"
    _train(train_args(tiny_model_dir, task_file, cut, steps=2, every=1) + INT8)
    _train(train_args(tiny_model_dir, task_file, cut, steps=3, every=1) + INT8, resume=True)
    assert metrics(cut) == metrics(whole)
