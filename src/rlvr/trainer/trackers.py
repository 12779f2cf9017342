"""Experiment trackers (``log.trackers``): one protocol, a registry by name, and the set the
trainer builds once at setup. Every tracker gets the same metric names and values each step.

A tracker that raises while logging is reported once (later errors are silent) and is tried
again each step; training and metrics.jsonl go on (docs/reliability.md, "Metrics sink down").
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rlvr.configs.base import ConfigError

IDS_FILE = "trackers.json"
"""RUN_DIR/trackers.json: each tracker's run id, so a resumed run continues the same run."""


class Tracker(Protocol):
    """Where a step's metrics are mirrored."""

    label: str
    """Name in messages ('TensorBoard')."""
    run_id: str | None
    """The tracker's own run id, kept for a resume (None: nothing to keep)."""

    def log(self, metrics: dict[str, float], step: int) -> None: ...

    def resume_at(self, step: int) -> None:
        """A resumed run continues at ``step``; called once, before it logs."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class TrackerContext:
    """What a tracker is built from besides its own config node."""

    run_dir: Path
    config: dict[str, Any]
    """The resolved run config, JSON-able (recorded as the run's config / parameters)."""
    resume_id: str | None = None
    """The run id this tracker wrote in RUN_DIR/trackers.json, when the run is resumed."""


@dataclass(frozen=True)
class TrackerSpec:
    build: Callable[[Any, TrackerContext], Tracker]
    module: str
    """The package the tracker imports; checked at startup."""
    install: str
    """How to install it, for the startup error."""


def _build_tensorboard(cfg: Any, ctx: TrackerContext) -> Tracker:
    return TensorBoardTracker(ctx.run_dir / "tensorboard")


def _build_wandb(cfg: Any, ctx: TrackerContext) -> Tracker:
    from rlvr.trainer.tracker_backends import WandbTracker

    return WandbTracker(cfg, ctx)


def _build_mlflow(cfg: Any, ctx: TrackerContext) -> Tracker:
    from rlvr.trainer.tracker_backends import MlflowTracker

    return MlflowTracker(cfg, ctx)


TRACKERS: dict[str, TrackerSpec] = {
    "tensorboard": TrackerSpec(_build_tensorboard, "tensorboard", "pip install tensorboard"),
    "wandb": TrackerSpec(_build_wandb, "wandb", "pip install 'rlvr[wandb]'"),
    "mlflow": TrackerSpec(_build_mlflow, "mlflow", "pip install 'rlvr[mlflow]'"),
}


def require_trackers(configs: list[Any]) -> None:
    """Raise one ConfigError naming the extra to install when a tracker's package is missing
    (checked before anything heavy is loaded)."""
    for cfg in configs:
        spec = TRACKERS[cfg.name]
        if importlib.util.find_spec(spec.module) is None:
            raise ConfigError(f"log.trackers: the {cfg.name} tracker needs the package "
                              f"{spec.module}, which is not installed: {spec.install}")


class TensorBoardTracker:
    """Scalars in TensorBoard event files; a resume purges the events from its step on."""

    label = "TensorBoard"
    run_id = None

    def __init__(self, log_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(log_dir))

    def log(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)
        self.writer.flush()

    def resume_at(self, step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        log_dir = self.writer.log_dir
        self.writer.close()
        self.writer = SummaryWriter(log_dir, purge_step=step)

    def close(self) -> None:
        self.writer.close()


class TrackerSet:
    """The configured trackers, fed together; a failing one is warned about once."""

    def __init__(self, trackers: list[Tracker]) -> None:
        self.trackers = list(trackers)
        self.failed: set[str] = set()
        """Labels of the trackers that raised at least once."""

    def log(self, metrics: dict[str, float], step: int) -> None:
        values = {name: float(value) for name, value in metrics.items()}
        for tracker in self.trackers:
            self._call(tracker, tracker.log, values, step)

    def resume_at(self, step: int) -> None:
        for tracker in self.trackers:
            self._call(tracker, tracker.resume_at, step)

    def close(self) -> None:
        """Close every tracker; safe to call twice."""
        trackers, self.trackers = self.trackers, []
        for tracker in trackers:
            try:
                tracker.close()
            except Exception as err:  # noqa: BLE001 - closing one must not stop the others
                print(f"rlvr: warning: closing {tracker.label} failed "
                      f"({type(err).__name__}: {err})", flush=True)

    def _call(self, tracker: Tracker, method: Callable[..., None], *args: Any) -> None:
        try:
            method(*args)
        except Exception as err:  # noqa: BLE001 - a broken sink must never stop training
            if tracker.label not in self.failed:
                print(f"rlvr: warning: {tracker.label} logging failed ({type(err).__name__}: "
                      f"{err}); metrics.jsonl is still written", flush=True)
            self.failed.add(tracker.label)


def build_trackers(configs: list[Any], run_dir: Path, config: dict[str, Any],
                   resume: bool) -> TrackerSet:
    """Start every tracker of ``log.trackers``; a resume continues the run ids saved in
    RUN_DIR/trackers.json, a fresh run rewrites the file."""
    require_trackers(configs)
    ids_path = Path(run_dir) / IDS_FILE
    saved = _read_ids(ids_path) if resume else {}
    trackers: list[Tracker] = []
    for cfg in configs:
        ctx = TrackerContext(Path(run_dir), config, saved.get(cfg.name))
        try:
            trackers.append(TRACKERS[cfg.name].build(cfg, ctx))
        except Exception as err:
            TrackerSet(trackers).close()  # the ones already started
            raise ConfigError(f"log.trackers: the {cfg.name} tracker could not start "
                              f"({type(err).__name__}: {err})") from err
    ids = {cfg.name: t.run_id for cfg, t in zip(configs, trackers) if t.run_id is not None}
    if ids or ids_path.exists():
        ids_path.write_text(json.dumps({**saved, **ids}, indent=1) + "\n")
    return TrackerSet(trackers)


def _read_ids(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        ids = json.loads(path.read_text())
    except json.JSONDecodeError:
        print(f"rlvr: warning: {path} is not valid JSON; trackers start new runs", flush=True)
        return {}
    return {k: v for k, v in ids.items() if isinstance(v, str)} if isinstance(ids, dict) else {}
