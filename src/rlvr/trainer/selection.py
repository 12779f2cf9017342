"""Prompt-selection policies (``data.selection``, docs/data.md) over a per-prompt history.

The history holds, per train row id, [pass-rate EMA, times seen, last step seen]; the sampler
(trainer/prompts.py) updates it after each step's reward stage. Stream policies (uniform, band,
retire) walk the seeded epoch order and say which candidates to keep; the variance policy draws
weighted without replacement. Every random draw comes from the sampler's per-call generator, so a
resumed run draws exactly what the uninterrupted one drew.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from rlvr.configs.selection import UniformSelectionConfig, VarianceSelectionConfig

History = dict[str, list[float]]  # row_id -> [ema, seen, last_step]


def update_ema(ema: float | None, pass_rate: float, weight: float) -> float:
    """The first sighting sets the EMA; later ones move it by ``weight`` toward the pass rate."""
    return pass_rate if ema is None else (1.0 - weight) * ema + weight * pass_rate


def emas(history: History, row_ids: list[str]) -> list[float | None]:
    return [history[r][0] if r in history else None for r in row_ids]


def base_stats(history: History, row_ids: list[str]) -> dict[str, float]:
    values = [e for e in emas(history, row_ids) if e is not None]
    return {"select/unseen_share": 1.0 - len(values) / len(row_ids),
            "select/mean_pass_ema": sum(values) / len(values) if values else 0.0}


class UniformPolicy:
    """Every candidate is kept: today's seeded epoch order."""

    weighted = False

    def __init__(self, cfg: UniformSelectionConfig) -> None:
        self.cfg = cfg

    def keep(self, row_id: str, history: History, rng: random.Random) -> bool:
        return True

    def stats(self, history: History, row_ids: list[str]) -> dict[str, float]:
        return {}


class BandPolicy(UniformPolicy):
    """Keep prompts whose EMA is in [low, high]; unseen prompts count as inside."""

    def keep(self, row_id: str, history: History, rng: random.Random) -> bool:
        if row_id not in history:
            return True
        return self.cfg.low <= history[row_id][0] <= self.cfg.high

    def stats(self, history: History, row_ids: list[str]) -> dict[str, float]:
        inside = sum(self.keep(r, history, random.Random(0)) for r in row_ids)
        return {"select/in_band_share": inside / len(row_ids)}


class RetirePolicy(UniformPolicy):
    """Skip mastered prompts (EMA >= threshold over >= min_seen sightings) unless revisited."""

    def retired(self, row_id: str, history: History) -> bool:
        entry = history.get(row_id)
        return entry is not None and entry[1] >= self.cfg.min_seen and \
            entry[0] >= self.cfg.threshold

    def keep(self, row_id: str, history: History, rng: random.Random) -> bool:
        if not self.retired(row_id, history):
            return True
        return rng.random() < self.cfg.revisit_rate

    def stats(self, history: History, row_ids: list[str]) -> dict[str, float]:
        return {"select/retired_share": sum(self.retired(r, history) for r in row_ids)
                / len(row_ids)}


class VariancePolicy:
    """Distinct prompts drawn with probability proportional to max(p (1 - p), floor)."""

    weighted = True

    def __init__(self, cfg: VarianceSelectionConfig) -> None:
        self.cfg = cfg

    def priority(self, ema: float | None) -> float:
        if ema is None:
            return self.cfg.unseen_priority
        return max(ema * (1.0 - ema), self.cfg.floor)

    def draw(self, row_ids: list[str], history: History, count: int,
             rng: random.Random) -> list[int]:
        """Weighted sampling without replacement (Efraimidis-Spirakis keys u^(1/w)); more than
        len(rows) prompts repeat whole rounds."""
        weights = [self.priority(e) for e in emas(history, row_ids)]
        out: list[int] = []
        while len(out) < count:
            keys = [math.log(1.0 - rng.random()) / w for w in weights]  # log(u)/w, u in (0, 1]
            ranked = sorted(range(len(row_ids)), key=lambda i: keys[i], reverse=True)
            out.extend(ranked[:count - len(out)])
        return out

    def stats(self, history: History, row_ids: list[str]) -> dict[str, float]:
        weights = [self.priority(e) for e in emas(history, row_ids)]
        return {"select/mean_priority": sum(weights) / len(weights)}


POLICIES: dict[str, Callable[[Any], Any]] = {
    "uniform": UniformPolicy, "band": BandPolicy, "variance": VariancePolicy,
    "retire": RetirePolicy}


def build_policy(cfg: Any) -> Any:
    """The policy object of a ``data.selection`` config (None: uniform with defaults)."""
    if cfg is None:
        cfg = UniformSelectionConfig()
    if cfg.name not in POLICIES:
        raise ValueError(f"unknown selection policy {cfg.name!r}; allowed: {', '.join(POLICIES)}")
    return POLICIES[cfg.name](cfg)

