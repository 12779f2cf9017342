"""``log.trackers``: names or mappings, one of each, and the old ``log.tensorboard`` switch."""

from __future__ import annotations

import pytest

from rlvr.config import dump_config, load_config
from rlvr.configs.base import ConfigError


def _names(*overrides: str) -> list[str]:
    return [t.name for t in load_config(None, list(overrides)).log.trackers]


def test_default_is_tensorboard():
    assert _names() == ["tensorboard"]


@pytest.mark.parametrize("overrides, names", [
    (["log.trackers=[wandb, mlflow]"], ["wandb", "mlflow"]),
    (["log.trackers=[]"], []),
    (["log.tensorboard=false"], []),
    (["log.tensorboard=true"], ["tensorboard"]),
    (["log.trackers=[mlflow]", "log.tensorboard=true"], ["tensorboard", "mlflow"]),
    (["log.trackers=[mlflow, tensorboard]", "log.tensorboard=false"], ["mlflow"]),
])
def test_names_and_the_legacy_switch(overrides, names):
    assert _names(*overrides) == names


def test_mapping_with_settings_and_dump_round_trip(tmp_path):
    cfg = load_config(None, ["log.trackers=[{name: wandb, project: p, tags: [a]}, mlflow]"])
    wandb, mlflow = cfg.log.trackers
    assert (wandb.project, wandb.mode, wandb.tags) == ("p", "offline", ["a"])
    assert mlflow.tracking_uri is None and mlflow.experiment == "rlvr"
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert "tensorboard:" not in path.read_text()  # the old key is not written back
    assert load_config(path).log.trackers == cfg.log.trackers


@pytest.mark.parametrize("override, message", [
    ("log.trackers=[wandb, wandb]", "tracker 'wandb' is listed twice"),
    ("log.trackers=[neptune]",
     "'log.trackers.0.name': 'neptune'; allowed values: tensorboard, wandb, mlflow"),
    ("log.trackers=[{name: mlflow, experimnt: x}]", "did you mean 'experiment'"),
    ("log.trackers=[{name: wandb, mode: cloud}]", "log.trackers.0.mode"),
    ("log.tensorboard=maybe", "log.tensorboard must be true or false"),
])
def test_bad_trackers_are_named(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(None, [override])
