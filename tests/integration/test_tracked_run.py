"""A 2-step tiny training run logs to every installed experiment tracker; each tracker's local
store is read back and must hold exactly the metrics of metrics.jsonl, step by step."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
from faults_support import write_task
from tracker_readers import mlflow_metrics, tensorboard_scalars, wandb_history, wandb_run_ids

from rlvr import cli
from rlvr.trainer.tracker_backends import mlflow_metric_name

INSTALLED = [name for name, module in (("tensorboard", "tensorboard"), ("wandb", "wandb"),
                                       ("mlflow", "mlflow")) if importlib.util.find_spec(module)]


def _skip_unless(name: str) -> None:
    if name not in INSTALLED:
        pytest.skip(f"{name} is not installed (pip install 'rlvr[{name}]')")


@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory, tiny_model_dir) -> Path:
    """One run with every installed tracker; periodic eval at the last step adds eval/pass@k."""
    root = tmp_path_factory.mktemp("trackers")
    run_dir = root / "run"
    code = cli.main([
        "train", f"model.name={tiny_model_dir}", "task.kind=file",
        f"task.path={write_task(root / 'd.jsonl')}", "task.eval_size=2", "steps=2",
        "rollout.prompts_per_step=2", "rollout.group_size=2", "rollout.max_new_tokens=4",
        "eval={before: false, after: false, periodic: {every: 2, n: 2, greedy: false}}",
        f"log.run_dir={run_dir}", "log.progress=false", "reward.pool.workers=1",
        "checkpoint.every=0", f"log.trackers=[{', '.join(INSTALLED)}]"])
    assert code == 0
    return run_dir


def _expected(run_dir: Path) -> dict[str, dict[int, float]]:
    """metrics.jsonl as {name: {step: value}}: what every tracker must hold."""
    out: dict[str, dict[int, float]] = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        step = row.pop("step")
        for name, value in row.items():
            out.setdefault(name, {})[step] = float(value)
    assert {0, 1} == {s for steps in out.values() for s in steps}
    assert "eval/pass@2" in out and "reward/mean" in out
    return out


def _assert_same(got: dict[str, dict[int, float]], want: dict[str, dict[int, float]],
                 rel: float) -> None:
    assert sorted(got) == sorted(want)
    for name, steps in want.items():
        assert sorted(got[name]) == sorted(steps), name
        for step, value in steps.items():
            stored = got[name][step]
            assert (math.isnan(stored) and math.isnan(value)) or stored == pytest.approx(
                value, rel=rel, abs=1e-6), (name, step, stored, value)


def test_tensorboard_holds_every_metric(tracked_run):
    _skip_unless("tensorboard")
    # Event files store float32: equal to about 1e-7 relative.
    _assert_same(tensorboard_scalars(tracked_run / "tensorboard"), _expected(tracked_run), 1e-6)


def test_wandb_offline_run_holds_every_metric(tracked_run):
    _skip_unless("wandb")
    ids = json.loads((tracked_run / "trackers.json").read_text())
    assert wandb_run_ids(tracked_run) == [ids["wandb"]]
    _assert_same(wandb_history(tracked_run), _expected(tracked_run), 1e-12)


def test_mlflow_file_store_holds_every_metric(tracked_run):
    _skip_unless("mlflow")
    ids = json.loads((tracked_run / "trackers.json").read_text())
    want = {mlflow_metric_name(k): v for k, v in _expected(tracked_run).items()}
    assert "eval/pass_at_2" in want  # MLflow refuses '@' in names
    got = mlflow_metrics((tracked_run / "mlruns").as_uri(), ids["mlflow"])
    _assert_same(got, want, 1e-12)
