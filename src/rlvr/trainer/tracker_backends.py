"""The optional trackers: Weights & Biases (offline by default) and MLflow (a file store in the
run directory by default). Imported only when ``log.trackers`` names them."""

from __future__ import annotations

import os
import re
import time

from rlvr.configs.tracker import MlflowTrackerConfig, WandbTrackerConfig
from rlvr.trainer.trackers import TrackerContext

_MLFLOW_BAD_CHARS = re.compile(r"[^/\w.\- :]")  # what MLflow refuses in a metric name


def mlflow_metric_name(name: str) -> str:
    """``name`` as MLflow can store it: '@' becomes '_at_' (``eval/pass@4`` ->
    ``eval/pass_at_4``), any other character MLflow refuses becomes '_'."""
    return _MLFLOW_BAD_CHARS.sub("_", name.replace("@", "_at_"))


class WandbTracker:
    """A W&B run in RUN_DIR/wandb; a resume continues the same run id (offline: a second
    offline-run directory with that id, which ``wandb sync`` merges)."""

    label = "W&B"

    def __init__(self, cfg: WandbTrackerConfig, ctx: TrackerContext) -> None:
        import wandb

        self.run = wandb.init(
            mode=cfg.mode, dir=str(ctx.run_dir), project=cfg.project, entity=cfg.entity,
            name=cfg.run_name or ctx.run_dir.resolve().name, tags=list(cfg.tags) or None,
            config=ctx.config, id=ctx.resume_id, resume="allow" if ctx.resume_id else None,
            settings=wandb.Settings(console="off"))  # rlvr's own stdout stays untouched
        self.run_id: str | None = self.run.id

    def log(self, metrics: dict[str, float], step: int) -> None:
        self.run.log(metrics, step=step)

    def resume_at(self, step: int) -> None:
        """Nothing to undo: a W&B run keeps one value per step."""

    def close(self) -> None:
        self.run.finish()


class MlflowTracker:
    """An MLflow run (tracking client API, no global active run); a resume reopens the same run,
    and the steps re-run after the checkpoint are appended to its history again."""

    label = "MLflow"

    def __init__(self, cfg: MlflowTrackerConfig, ctx: TrackerContext) -> None:
        from mlflow.tracking import MlflowClient

        uri = cfg.tracking_uri or (ctx.run_dir / "mlruns").resolve().as_uri()
        if uri.startswith("file:"):  # MLflow 3 refuses its file store unless this is set
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.client = MlflowClient(tracking_uri=uri)
        self.run_id: str | None = self._reopen(ctx.resume_id)
        if self.run_id is None:
            self.run_id = self._create(cfg, ctx)

    def _reopen(self, run_id: str | None) -> str | None:
        if run_id is None:
            return None
        from mlflow.exceptions import MlflowException

        try:
            self.client.update_run(run_id, status="RUNNING")
        except MlflowException:
            print(f"rlvr: warning: MLflow run {run_id} not found; starting a new run", flush=True)
            return None
        return run_id

    def _create(self, cfg: MlflowTrackerConfig, ctx: TrackerContext) -> str:
        experiment = self.client.get_experiment_by_name(cfg.experiment)
        experiment_id = (experiment.experiment_id if experiment is not None
                         else self.client.create_experiment(cfg.experiment))
        run = self.client.create_run(experiment_id,
                                     run_name=cfg.run_name or ctx.run_dir.resolve().name,
                                     tags={"rlvr.run_dir": str(ctx.run_dir.resolve())})
        self.client.log_dict(run.info.run_id, ctx.config, "config.json")
        return run.info.run_id

    def log(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now_ms = int(time.time() * 1000)
        batch = [Metric(mlflow_metric_name(k), v, now_ms, step) for k, v in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def resume_at(self, step: int) -> None:
        """MLflow cannot delete history points; the re-run steps are logged again."""

    def close(self) -> None:
        self.client.set_terminated(self.run_id, status="FINISHED")

