"""Config of the experiment trackers (``log.trackers``): where each step's metrics are mirrored
besides RUN_DIR/metrics.jsonl. One entry per tracker, told apart by ``name``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from rlvr.configs.base import Node


class TensorBoardTrackerConfig(Node):
    """TensorBoard event files in RUN_DIR/tensorboard (``tensorboard --logdir RUN_DIR``)."""

    name: Literal["tensorboard"] = "tensorboard"
    """Tracker name."""


class WandbTrackerConfig(Node):
    """Weights & Biases; offline by default: the run is written under RUN_DIR/wandb and needs no
    network or account (upload later with ``wandb sync RUN_DIR/wandb/offline-run-*``).
    Needs ``pip install 'rlvr[wandb]'``."""

    name: Literal["wandb"] = "wandb"
    """Tracker name."""
    mode: Literal["offline", "online"] = "offline"
    """'offline': write the run locally only; 'online': stream it to the W&B server (needs
    network and ``wandb login``)."""
    project: str = Field("rlvr", min_length=1)
    """W&B project the run belongs to."""
    entity: str | None = None
    """W&B user or team (null: the account's default)."""
    run_name: str | None = None
    """Display name of the run (null: the name of the run directory)."""
    tags: list[str] = Field(default_factory=list)
    """Tags attached to the run."""


class MlflowTrackerConfig(Node):
    """MLflow; by default a local file store in RUN_DIR/mlruns (``mlflow ui --backend-store-uri
    RUN_DIR/mlruns``). Needs ``pip install 'rlvr[mlflow]'``."""

    name: Literal["mlflow"] = "mlflow"
    """Tracker name."""
    tracking_uri: str | None = None
    """Where runs are stored: null for the file store RUN_DIR/mlruns, or any MLflow tracking URI
    (``http://host:5000``, ``file:/abs/path``, ``sqlite:///mlflow.db``)."""
    experiment: str = Field("rlvr", min_length=1)
    """MLflow experiment the run is created in (created when missing)."""
    run_name: str | None = None
    """Display name of the run (null: the name of the run directory)."""


TrackerConfig = Annotated[TensorBoardTrackerConfig | WandbTrackerConfig | MlflowTrackerConfig,
                          Field(discriminator="name")]

TRACKER_NAMES = ("tensorboard", "wandb", "mlflow")
