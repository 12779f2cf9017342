"""The entropy bonus: loss -= coef * H per token, with a fixed or an adaptive coefficient."""

from __future__ import annotations

from dataclasses import dataclass

from rlvr.configs.algorithm_extras import EntropyBonusConfig


@dataclass
class EntropyCoef:
    """The current coefficient of the entropy bonus (state: saved with a checkpoint).

    Fixed (``target: null``): always ``coef``. Adaptive (Skywork-OR1's adaptive entropy control):
    after each rollout batch the coefficient moves by ``step`` up while the measured mean token
    entropy is below ``target`` and down while above it, kept within [0, max_coef].
    """

    cfg: EntropyBonusConfig
    value: float = 0.0

    def __post_init__(self) -> None:
        self.value = self.cfg.coef

    def observe(self, entropy_mean: float) -> None:
        if self.cfg.target is None:
            return
        direction = 1.0 if entropy_mean < self.cfg.target else -1.0
        self.value = min(max(self.value + direction * self.cfg.step, 0.0), self.cfg.max_coef)

    def state_dict(self) -> dict[str, float]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.value = float(state["value"])
