"""The tracker registry: startup check of optional packages, the set's fan-out and failure
handling, run ids kept across a resume, TensorBoard purging on resume, MLflow metric names."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest
from tracker_readers import mlflow_metrics, tensorboard_scalars

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.trainer import trackers
from rlvr.trainer.tracker_backends import mlflow_metric_name
from rlvr.trainer.trackers import TrackerSet, build_trackers, require_trackers


class Recorder:
    """A tracker that keeps what it was given (or raises, when ``error`` is set)."""

    run_id = None

    def __init__(self, label: str, error: Exception | None = None) -> None:
        self.label, self.error = label, error
        self.logged: list[tuple[dict, int]] = []
        self.closed = 0

    def log(self, metrics, step):
        if self.error is not None:
            raise self.error
        self.logged.append((metrics, step))

    def resume_at(self, step):
        pass

    def close(self):
        self.closed += 1


def test_every_tracker_gets_the_same_metrics_as_floats():
    a, b = Recorder("A"), Recorder("B")
    TrackerSet([a, b]).log({"loss": 1, "reward/mean": 0.5}, 3)
    assert a.logged == b.logged == [({"loss": 1.0, "reward/mean": 0.5}, 3)]
    assert isinstance(a.logged[0][0]["loss"], float)


def test_a_failing_tracker_warns_once_and_the_others_go_on(capsys):
    broken, good = Recorder("Broken", OSError("disk gone")), Recorder("Good")
    group = TrackerSet([broken, good])
    for step in range(3):
        group.log({"loss": float(step)}, step)
    out = capsys.readouterr().out
    assert out.count("Broken logging failed (OSError: disk gone)") == 1
    assert [step for _, step in good.logged] == [0, 1, 2]
    assert group.failed == {"Broken"}


def test_close_is_safe_twice():
    a = Recorder("A")
    group = TrackerSet([a])
    group.close()
    group.close()
    assert a.closed == 1


def _hide_package(monkeypatch, hidden: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(trackers.importlib.util, "find_spec",
                        lambda name, *args: None if name == hidden else real(name, *args))


def test_missing_package_names_the_extra(monkeypatch):
    cfg = load_config(None, ["log.trackers=[tensorboard, wandb]"])
    _hide_package(monkeypatch, "wandb")
    with pytest.raises(ConfigError, match=r"wandb tracker needs the package wandb, which is not "
                                          r"installed: pip install 'rlvr\[wandb\]'"):
        require_trackers(cfg.log.trackers)


def test_train_refuses_a_missing_tracker_before_loading_anything(monkeypatch, tmp_path, capsys):
    from rlvr import cli

    _hide_package(monkeypatch, "mlflow")
    run_dir = tmp_path / "run"
    # The model does not exist: the tracker check must come first.
    code = cli.main(["train", "model.name=/nonexistent/model", f"log.run_dir={run_dir}",
                     "log.trackers=[mlflow]"])
    assert code == 2
    assert "pip install 'rlvr[mlflow]'" in capsys.readouterr().err
    assert not run_dir.exists()


@pytest.mark.parametrize("name, stored", [
    ("eval/pass@4", "eval/pass_at_4"), ("reward/mean", "reward/mean"),
    ("time/a b:c-1.0", "time/a b:c-1.0"), ("x#y(z)", "x_y_z_")])
def test_mlflow_metric_names(name, stored):
    assert mlflow_metric_name(name) == stored


def test_tensorboard_resume_purges_the_replayed_steps(tmp_path):
    pytest.importorskip("tensorboard")
    cfg = load_config(None, [])  # the default: TensorBoard only
    group = build_trackers(cfg.log.trackers, tmp_path, {}, resume=False)
    for step in range(3):
        group.log({"loss": float(step)}, step)
    group.close()
    # A resumed run starts in a later second (a new process): event files are read in name
    # order, events.out.tfevents.<seconds>.<host>.<pid>.<writer counter>, and within one second
    # and one process the counter decides as text ('...10' before '...9').
    time.sleep(1.1)
    resumed = build_trackers(cfg.log.trackers, tmp_path, {}, resume=True)
    resumed.resume_at(1)  # the checkpoint was at step 1: steps 1 and 2 are run again
    resumed.log({"loss": 10.0}, 1)
    resumed.close()
    assert tensorboard_scalars(tmp_path / "tensorboard") == {"loss": {0: 0.0, 1: 10.0}}
    assert not (tmp_path / trackers.IDS_FILE).exists()  # TensorBoard has no run id to keep


def test_mlflow_resume_continues_the_same_run(tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    cfg = load_config(None, ["log.trackers=[mlflow]"])
    uri = (tmp_path / "mlruns").as_uri()
    group = build_trackers(cfg.log.trackers, tmp_path, {"seed": 0}, resume=False)
    group.log({"loss": 1.0, "eval/pass@2": 0.5}, 0)
    group.close()
    run_id = json.loads((tmp_path / trackers.IDS_FILE).read_text())["mlflow"]
    assert MlflowClient(uri).get_run(run_id).info.status == "FINISHED"
    resumed = build_trackers(cfg.log.trackers, tmp_path, {"seed": 0}, resume=True)
    assert MlflowClient(uri).get_run(run_id).info.status == "RUNNING"
    resumed.log({"loss": 2.0}, 1)
    resumed.close()
    assert mlflow_metrics(uri, run_id) == {"loss": {0: 1.0, 1: 2.0}, "eval/pass_at_2": {0: 0.5}}
    fresh = build_trackers(cfg.log.trackers, tmp_path, {"seed": 0}, resume=False)
    fresh.close()
    assert json.loads((tmp_path / trackers.IDS_FILE).read_text())["mlflow"] != run_id


def test_wandb_offline_resume_keeps_the_run_id(tmp_path):
    pytest.importorskip("wandb")
    from tracker_readers import wandb_history, wandb_run_ids

    cfg = load_config(None, ["log.trackers=[wandb]"])
    group = build_trackers(cfg.log.trackers, tmp_path, {"seed": 0}, resume=False)
    group.log({"loss": 1.0}, 0)
    group.close()
    run_id = json.loads((tmp_path / trackers.IDS_FILE).read_text())["wandb"]
    time.sleep(1.1)  # offline-run directories are named to the second (a real resume takes longer)
    resumed = build_trackers(cfg.log.trackers, tmp_path, {"seed": 0}, resume=True)
    resumed.log({"loss": 2.0}, 1)
    resumed.close()
    assert wandb_run_ids(tmp_path) == [run_id, run_id]  # two offline-run directories, one id
    # wandb's service may still be writing the resumed run's file when close() returns under load
    deadline = time.monotonic() + 30
    while wandb_history(tmp_path) != {"loss": {0: 1.0, 1: 2.0}} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert wandb_history(tmp_path) == {"loss": {0: 1.0, 1: 2.0}}


def test_a_tracker_that_cannot_start_is_a_config_error(tmp_path):
    pytest.importorskip("mlflow")
    cfg = load_config(None, ["log.trackers=[tensorboard, {name: mlflow, tracking_uri: 'nope://x'}]"])
    with pytest.raises(ConfigError, match=r"log.trackers: the mlflow tracker could not start"):
        build_trackers(cfg.log.trackers, tmp_path, {}, resume=False)
