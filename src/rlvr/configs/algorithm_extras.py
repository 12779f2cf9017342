"""Config classes of the optional algorithm axes; each is an optional sub-config of
``AlgorithmConfig`` (``null`` = off), so no boolean switch travels apart from its knobs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rlvr.configs.base import Node


class KlPenaltyConfig(Node):
    """KL between the policy and a frozen reference (Schulman's k1/k2/k3 estimators)."""

    estimator: Literal["k1", "k2", "k3"] = "k3"
    """k1 = log(pi/ref); k2 = (log(pi/ref))^2 / 2; k3 = ref/pi - log(ref/pi) - 1."""
    coef: float = Field(0.001, ge=0)
    """Weight of the KL term (beta)."""
    placement: Literal["loss", "reward"] = "loss"
    """'loss': coef * kl per token is added to the loss; 'reward': coef * the sequence's summed kl
    (at the sampler's logprobs) is subtracted from its reward before the advantage."""
    reset_every: int | None = Field(None, ge=1)
    """ProRL: copy the current policy into the reference every N steps (null = never)."""
    reset_optimizer: bool = True
    """With reset_every: also clear the optimizer's moments at each reset (as ProRL does)."""


class EntropyBonusConfig(Node):
    """An entropy bonus -coef * H per token. With ``target`` set, the coefficient adapts: it moves
    by ``step`` towards more bonus while the measured entropy is below the target and towards
    less above it, kept within [0, max_coef] (adaptive entropy control, Skywork-OR1)."""

    coef: float = Field(0.001, ge=0)
    """The fixed coefficient, or the starting one when adaptive."""
    target: float | None = Field(None, gt=0)
    """Target mean token entropy (nats); null = fixed coefficient."""
    step: float = Field(0.0005, gt=0)
    """Change of the coefficient per step when adaptive."""
    max_coef: float = Field(0.01, gt=0)
    """Upper bound of the adaptive coefficient."""


class TokenSelectConfig(Node):
    """80/20 forking tokens (Wang et al. 2025): the policy loss keeps only the top ``top`` share of
    the optimizer batch's valid tokens by entropy; the others get zero policy gradient."""

    top: float = Field(0.2, gt=0, le=1)
    """Share of valid tokens (highest entropy first) that keep their policy gradient."""


class SampleWeightsConfig(Node):
    """Separate weights for samples with positive and negative advantage (Zhu et al. 2025):
    NSR = positive 0, negative 1; PSR = positive 1, negative 0; W-REINFORCE = positive 0.1."""

    positive: float = Field(1.0, ge=0)
    """Loss weight of samples whose advantage is > 0."""
    negative: float = Field(1.0, ge=0)
    """Loss weight of samples whose advantage is < 0."""


class OffPolicyCorrectionConfig(Node):
    """Importance weights pi_trainer_old / pi_sampler between the trainer's logprobs of the rollout
    policy and the sampler's own (truncated IS, Yao et al. 2025; masked IS)."""

    level: Literal["token", "sequence"] = "token"
    """'sequence' uses the product of the token ratios of each completion."""
    mode: Literal["truncate", "mask"] = "truncate"
    """'truncate': weight min(w, cap). 'mask': weight 1 inside [1/cap, cap], 0 outside."""
    cap: float = Field(2.0, gt=1)
    """Truncation bound of the weight ('truncate'), or the accepted band [1/cap, cap] ('mask')."""


class GroupFilterConfig(Node):
    """DAPO dynamic sampling: a group whose reward std is at most ``min_std`` carries no signal and
    is dropped; more prompts are sampled until the batch is full or ``max_rounds`` is reached."""

    min_std: float = Field(1e-6, ge=0)
    """Groups with a (biased) reward std <= this are dropped; never an exact float comparison."""
    max_rounds: int = Field(3, ge=1)
    """Rollout rounds per step, the first included; a batch still short after them is used as is."""
