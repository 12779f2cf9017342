"""Step guards: non-finite steps (skip, count, abort after K in a row) and reward sanity.

``update`` already skips an optimizer step whose gradient norm is not finite and reports
``nonfinite_skipped``; ``NonFiniteGuard`` counts such steps across the run and stops it with a
diagnostic when they keep coming. ``mask_invalid_rewards`` turns a nan / inf / absurd score into
an unscorable sample before advantages are computed, so it can never reach them.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from typing import Any

import torch

from rlvr.types import Group

MAX_ABS_REWARD = 1e6
"""A verifier score above this in absolute value is treated as a bug, not a reward."""


class NonFiniteAbort(RuntimeError):
    """K consecutive steps had a non-finite loss or gradient."""


def mask_invalid_rewards(groups: list[Group]) -> dict[str, float]:
    """Mark non-finite or absurd scores unscorable (masked, zero advantage); returns count
    deltas to add to the pipeline's outcome counts."""
    invalid = 0
    for group in groups:
        for sample in group.samples:
            reward = sample.reward
            if reward is None or reward.score is None:
                continue
            score = reward.score
            if not isinstance(score, (int, float)) or not math.isfinite(score) \
                    or abs(score) > MAX_ABS_REWARD:
                sample.reward = replace(reward, score=None, verdict=f"invalid_reward:{score!r}"[:60])
                invalid += 1
    if not invalid:
        return {}  # deltas for the outcome counts the pipeline already made
    return {"reward/invalid": float(invalid), "outcome/scored": -float(invalid),
            "outcome/unscorable": float(invalid)}


class NonFiniteGuard:
    """Counts steps with a non-finite loss or gradient; raises after ``limit`` in a row."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.consecutive = 0
        self.total = 0
        self.recent: deque = deque(maxlen=limit)

    def observe(self, step: int, metrics: dict[str, float]) -> None:
        """Add ``nonfinite/*`` counters to ``metrics`` (the loss is reported by ``update``)."""
        bad = metrics.get("nonfinite_skipped", 0.0) > 0 or not math.isfinite(
            metrics.get("loss", 0.0)) or not math.isfinite(metrics.get("grad_norm", 0.0))
        self.consecutive = self.consecutive + 1 if bad else 0
        self.total += bad
        if bad:
            self.recent.append({"step": step, "loss": metrics.get("loss"),
                                "grad_norm": metrics.get("grad_norm"),
                                "reward/mean": metrics.get("reward/mean")})
        metrics["nonfinite/skipped_total"] = float(self.total)
        metrics["nonfinite/consecutive"] = float(self.consecutive)

    def check(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        if self.consecutive < self.limit:
            return
        raise NonFiniteAbort(
            f"{self.consecutive} consecutive steps had a non-finite loss or gradient "
            f"(reliability.max_consecutive_nonfinite={self.limit}); each was skipped. "
            f"Recent: {list(self.recent)}. Weights finite: {tensors_finite(model.parameters())}; "
            f"optimizer moments finite: {optimizer_finite(optimizer)}. Look for a reward or "
            f"advantage blow-up, lower optim.lr, or check the data of these steps.")

    def state_dict(self) -> dict[str, Any]:
        return {"consecutive": self.consecutive, "total": self.total, "recent": list(self.recent)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.consecutive, self.total = state["consecutive"], state["total"]
        self.recent = deque(state["recent"], maxlen=self.limit)


def tensors_finite(tensors) -> bool:
    """Every element finite (of this rank's shard, for sharded tensors)."""
    return all(bool(torch.isfinite(t.to_local() if hasattr(t, "to_local") else t).all())
               for t in tensors)


def optimizer_finite(optimizer: torch.optim.Optimizer) -> bool:
    return tensors_finite(v for s in optimizer.state.values() for v in s.values()
                          if isinstance(v, torch.Tensor) and v.is_floating_point())
