"""3-step runs on the tiny model with hints for all-fail groups and with LUFFY expert traces:
the metrics are logged, the expert traces are in the groups, the weights move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faults_support import train_args, write_task


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("hints-data") / "sums.jsonl", train_rows=6)


def run(tiny_model_dir: Path, task_file: Path, run_dir: Path, extra: list[str]) -> list[dict]:
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    args = train_args(tiny_model_dir, task_file, run_dir, steps=3, every=0)
    train(load_config(None, args + extra))
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_three_steps_with_hints(tiny_model_dir, task_file, tmp_path):
    rows = run(tiny_model_dir, task_file, tmp_path / "run", [
        "algorithm.hints={levels: 2, source: reference_prefix, fractions: [0.5, 1.0]}"])
    assert [r["step"] for r in rows] == [0, 1, 2]
    # the random tiny model almost never writes only digits (the toy reward's 1.0)
    assert any(r["hints/groups_share"] > 0 for r in rows)
    for r in rows:
        assert 0 <= r["hints/groups_share"] <= 1 and 0 <= r["hints/accuracy"] <= 1
        assert r["hints/level_mean"] == 0 or 1 <= r["hints/level_mean"] <= 2
        assert r["hints/no_source"] == 0 and r["loss"] == r["loss"]
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").open()]
    assert all("Hint:" not in s["prompt"] for s in samples)  # logged under the plain prompt


def test_three_steps_with_expert_traces(tiny_model_dir, task_file, tmp_path):
    rows = run(tiny_model_dir, task_file, tmp_path / "run",
               ["algorithm.expert_traces={per_group: 1}"])
    assert [r["step"] for r in rows] == [0, 1, 2]
    for r in rows:
        assert r["expert/share"] == pytest.approx(1 / 3)  # 2 samples + 1 trace per group
        assert r["expert/reward_mean"] == 1.0  # a reference is all digits: the toy reward's 1.0
        assert r["advantage/abs_mean"] > 0 and r["loss"] == r["loss"]
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").open()]
    traces = [s for s in samples if s["completion"] == s["reference"]]
    assert len(traces) == len(samples) // 3 and all(s["reward"] == 1.0 for s in traces)
