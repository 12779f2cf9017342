"""The algorithm axes, resolved from the config once, before the loop starts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from rlvr.algorithms.advantages import ADVANTAGES
from rlvr.algorithms.aggregation import AGGREGATIONS, BatchNorm
from rlvr.algorithms.config import AlgorithmConfig
from rlvr.algorithms.objectives import OBJECTIVES, LossInputs

__all__ = ["Algorithm", "BatchNorm", "LossInputs", "build_algorithm"]


@dataclass(frozen=True)
class Algorithm:
    """The chosen function of every axis; the trainer calls these and never looks at names."""

    advantages: Callable  # (rewards_BG, valid_BG) -> advantages_BG
    objective: Callable  # (LossInputs) -> (loss_NT, stats_NT)
    aggregate: Callable  # (loss_NT, mask_NT, BatchNorm) -> scalar
    epochs: int
    minibatches: int

    @property
    def reuses_rollout_policy(self) -> bool:
        """True when each rollout batch gets exactly one optimizer step, so the policy that the
        ratio is taken against equals the current one and old logprobs need no extra forward."""
        return self.epochs * self.minibatches == 1


def build_algorithm(cfg: AlgorithmConfig) -> Algorithm:
    return Algorithm(
        advantages=partial(ADVANTAGES[cfg.advantage.name], cfg=cfg.advantage),
        objective=partial(OBJECTIVES[cfg.objective.name], cfg=cfg.objective),
        aggregate=AGGREGATIONS[cfg.aggregation],
        epochs=cfg.epochs,
        minibatches=cfg.minibatches,
    )
