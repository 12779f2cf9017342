"""Run-directory outputs: metrics JSONL + TensorBoard, sampled completions, eval tables."""

from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from statistics import mean

from rlvr.eval.diagnostics import zero_variance_share
from rlvr.runs.faultpoints import fault_point
from rlvr.types import Group, is_correct


class MetricsLogger:
    """Appends one JSON object per step to metrics.jsonl and mirrors scalars to TensorBoard."""

    def __init__(self, run_dir: Path, tensorboard: bool) -> None:
        self.path = run_dir / "metrics.jsonl"
        self.samples_path = run_dir / "samples.jsonl"
        self.writer = None
        self.sink_failed = False
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard"))

    def log(self, step: int, metrics: dict[str, float]) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps({"step": step, **metrics}) + "\n")
        if self.writer is not None:
            try:
                for name, value in metrics.items():
                    self.writer.add_scalar(name, value, step)
                self.writer.flush()
            except Exception as err:  # noqa: BLE001 - a broken sink must never stop training
                if not self.sink_failed:
                    print(f"rlvr: warning: TensorBoard logging failed ({type(err).__name__}: "
                          f"{err}); metrics.jsonl is still written", flush=True)
                self.sink_failed = True

    def resume_at(self, step: int) -> None:
        """A resumed run continues at ``step``: TensorBoard drops events logged from it on."""
        if self.writer is not None:
            from torch.utils.tensorboard import SummaryWriter

            log_dir = self.writer.log_dir
            self.writer.close()
            self.writer = SummaryWriter(log_dir, purge_step=step)

    def log_samples(self, step: int, groups: list[Group]) -> None:
        with self.samples_path.open("a") as fh:
            for group in groups:
                for sample in group.samples:
                    fh.write(json.dumps({
                        "step": step, "row_id": group.row.row_id, "prompt": group.row.prompt,
                        "reference": group.row.reference, "completion": sample.text,
                        "reward": sample.reward.score, "verdict": sample.reward.verdict,
                        "components": sample.reward.components,
                        "finish_reason": sample.finish_reason}) + "\n")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class StageTimer:
    """Wall time per named stage of one step (``time/<stage>`` metrics)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        fault_point(f"stage:{name}")
        start = time.perf_counter()
        yield
        self.seconds[f"time/{name}"] = time.perf_counter() - start


def rollout_metrics(groups: list[Group], outcome_counts: Counter) -> dict[str, float]:
    """Reward, accuracy, completion length and group statistics of one rollout batch."""
    samples = [s for g in groups for s in g.samples]
    scored = [s.reward.score for s in samples if s.reward.score is not None]
    lengths = [len(s.completion_ids) for s in samples]
    out = {
        "reward/mean": mean(scored) if scored else 0.0,
        "accuracy": mean(float(is_correct(x)) for x in scored) if scored else 0.0,
        "completion/len_mean": mean(lengths), "completion/len_max": float(max(lengths)),
        "completion/truncated_share": mean(float(s.finish_reason == "length") for s in samples),
        "groups/zero_variance_share": zero_variance_share(groups),
    }
    components = Counter()
    for s in samples:
        components.update(s.reward.components)
    out.update({f"reward/{k}": v / len(samples) for k, v in components.items()})
    out.update({k: float(v) for k, v in outcome_counts.items()})
    return out
