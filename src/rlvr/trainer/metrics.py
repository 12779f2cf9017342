"""Run-directory outputs: metrics JSONL + the experiment trackers, sampled completions, eval
tables."""

from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from statistics import mean

from rlvr.eval.diagnostics import zero_variance_share
from rlvr.runs.faultpoints import fault_point
from rlvr.trainer.trackers import TrackerSet
from rlvr.envs.metrics import episode_metrics
from rlvr.types import Group, is_correct


class MetricsLogger:
    """Appends one JSON object per step to metrics.jsonl and mirrors the same metrics to every
    tracker of ``log.trackers`` (trainer/trackers.py)."""

    def __init__(self, run_dir: Path, trackers: TrackerSet) -> None:
        self.path = run_dir / "metrics.jsonl"
        self.samples_path = run_dir / "samples.jsonl"
        self.trackers = trackers

    def log(self, step: int, metrics: dict[str, float]) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps({"step": step, **metrics}) + "\n")
        self.trackers.log(metrics, step)

    def resume_at(self, step: int) -> None:
        """A resumed run continues at ``step`` (TensorBoard drops its events from it on)."""
        self.trackers.resume_at(step)

    def log_samples(self, step: int, groups: list[Group]) -> None:
        with self.samples_path.open("a") as fh:
            for group in groups:
                for sample in group.samples:
                    # a multi-turn episode also carries its transcript, tool turns marked
                    extra = {} if sample.episode is None else {
                        "transcript": sample.episode.to_json()}
                    fh.write(json.dumps({**extra,
                        "step": step, "row_id": group.row.row_id, "prompt": group.row.prompt,
                        "reference": group.row.reference, "completion": sample.text,
                        "reward": sample.reward.score, "verdict": sample.reward.verdict,
                        "components": sample.reward.components,
                        "finish_reason": sample.finish_reason,
                        "policy_version": sample.policy_version}) + "\n")

    def close(self) -> None:
        """Close the trackers; safe to call twice."""
        self.trackers.close()


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
    out.update(episode_metrics(groups))  # multi-turn episodes only (envs/)
    return out
