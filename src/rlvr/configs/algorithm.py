"""Config classes of the algorithm axes. Each variant's knobs live in its own class, selected by
its ``name``; a preset (``algorithm: dapo``) is a YAML bundle of these choices (see presets/).

The optional axes (KL, entropy bonus, token selection, sample weights, off-policy correction,
group filter) are optional sub-configs in ``algorithm_extras.py``: ``null`` switches one off.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, model_validator

from rlvr.configs.algorithm_extras import (EntropyBonusConfig, GroupFilterConfig, KlPenaltyConfig,
                                           OffPolicyCorrectionConfig, SampleWeightsConfig, TokenSelectConfig)
from rlvr.configs.base import Node
from rlvr.configs.hints import ExpertTracesConfig, HintsConfig
from rlvr.configs.sft import SftMixConfig
from rlvr.configs.distill import DistillConfig

# ---- advantage estimators ----------------------------------------------------------------------


class GrpoAdvantageConfig(Node):
    """GRPO (Shao et al. 2024, DeepSeekMath): (r - mean_group) / (std_group + eps)."""

    group_relative: ClassVar[bool] = True
    name: Literal["grpo"] = "grpo"
    std: Literal["unbiased", "biased"] = "unbiased"
    """Group std estimator: 'unbiased' divides by G-1 (torch default), 'biased' by G."""
    eps: float = Field(1e-6, gt=0)
    """Added to the std so an all-equal group gives 0/eps = 0, never NaN."""


class DrGrpoAdvantageConfig(Node):
    """Dr.GRPO (Liu et al. 2025): r - mean_group, no division by the std."""

    group_relative: ClassVar[bool] = True
    name: Literal["dr_grpo"] = "dr_grpo"


class RlooAdvantageConfig(Node):
    """RLOO (Ahmadian et al. 2024): r_i minus the mean of the other samples of the group."""

    group_relative: ClassVar[bool] = True
    name: Literal["rloo"] = "rloo"


class ReinforcePPAdvantageConfig(Node):
    """REINFORCE++ (Hu 2025): rewards whitened over the whole rollout batch (no group baseline)."""

    group_relative: ClassVar[bool] = False
    name: Literal["reinforce_pp"] = "reinforce_pp"
    eps: float = Field(1e-6, gt=0)
    """Added to the batch std so an all-equal batch gives 0/eps = 0, never NaN."""
    whiten: Literal["token", "sequence"] = "token"
    """Batch whitening over valid tokens ('token', as verl and OpenRLHF: each sample's reward
    counted once per valid completion token) or over valid samples ('sequence', one count each)."""


class ReinforcePPBaselineAdvantageConfig(Node):
    """REINFORCE++-baseline (Hu 2025): r - mean_group, then whitened over the rollout batch."""

    group_relative: ClassVar[bool] = True
    name: Literal["reinforce_pp_baseline"] = "reinforce_pp_baseline"
    eps: float = Field(1e-6, gt=0)
    """Added to the batch std so an all-equal batch gives 0/eps = 0, never NaN."""
    whiten: Literal["token", "sequence"] = "token"
    """Batch whitening of the group-centred rewards over valid tokens ('token', as verl and
    OpenRLHF) or over valid samples ('sequence', one count each)."""


class PassAtKAdvantageConfig(Node):
    """Pass@k training (Chen et al. 2025): the analytic group advantage of the pass@k reward."""

    group_relative: ClassVar[bool] = True
    name: Literal["pass_at_k"] = "pass_at_k"
    k: int = Field(4, ge=1)
    """Samples per virtual attempt; capped at the number of scored samples of the group."""
    correct_at: float = 1.0
    """A reward at or above this counts as a correct sample."""
    eps: float = Field(1e-6, gt=0)
    """Added to the std of the pass@k advantage so a uniform group gives 0, never NaN."""


class RawAdvantageConfig(Node):
    """No baseline: A = scale * (r - baseline). With baseline 0.5 and scale 2, binary rewards
    become +1 / -1 (the signed REINFORCE of the PSR/NSR paper, Zhu et al. 2025)."""

    group_relative: ClassVar[bool] = False
    name: Literal["raw"] = "raw"
    baseline: float = 0.0
    """Subtracted from every reward (a fixed baseline, not a learned one)."""
    scale: float = 1.0
    """Multiplies the centred reward."""


class RftAdvantageConfig(Node):
    """RFT, rejection-sampling fine-tuning (Yuan et al. 2023): A = 1 for a correct sample, 0
    otherwise; no baseline, so the policy loss is the log-likelihood of the correct samples."""

    group_relative: ClassVar[bool] = False
    name: Literal["rft"] = "rft"
    correct_at: float = 1.0
    """A reward at or above this keeps the sample (advantage 1); below it is rejected (0)."""


Advantage = Annotated[Union[GrpoAdvantageConfig, DrGrpoAdvantageConfig, RlooAdvantageConfig, ReinforcePPAdvantageConfig,
                            ReinforcePPBaselineAdvantageConfig, PassAtKAdvantageConfig, RawAdvantageConfig,
                            RftAdvantageConfig],
                      Field(discriminator="name")]

# ---- objectives --------------------------------------------------------------------------------


class PpoClipObjectiveConfig(Node):
    """PPO clipped surrogate (Schulman et al. 2017) with decoupled bounds (DAPO's clip-higher),
    an optional dual-clip constant (Ye et al. 2020) and an optional two-sided cap (INTELLECT-2)."""

    name: Literal["ppo_clip"] = "ppo_clip"
    eps_low: float = Field(0.2, gt=0, lt=1)
    """The ratio is clipped below at 1 - eps_low."""
    eps_high: float = Field(0.2, gt=0)
    """The ratio is clipped above at 1 + eps_high (may be larger or smaller than eps_low)."""
    dual_clip: float | None = Field(None, gt=1)
    """For negative advantages the per-token loss is capped at -dual_clip * A (ratio beyond c)."""
    delta: float | None = Field(None, gt=1)
    """Two-sided cap: the unclipped ratio is clamped at delta before the min, for every sign."""

    @model_validator(mode="after")
    def _delta_above_clip(self) -> "PpoClipObjectiveConfig":
        if self.delta is not None and self.delta <= 1 + self.eps_high:
            raise ValueError(f"delta={self.delta} must exceed 1 + eps_high = {1 + self.eps_high}")
        return self


class GspoObjectiveConfig(Node):
    """GSPO (Zheng et al. 2025): one length-normalised ratio per sequence, clipped per sequence."""

    name: Literal["gspo"] = "gspo"
    eps_low: float = Field(3e-4, gt=0, lt=1)
    """The sequence ratio is clipped below at 1 - eps_low (GSPO's ranges are ~1e-4, not 0.2)."""
    eps_high: float = Field(4e-4, gt=0)
    """The sequence ratio is clipped above at 1 + eps_high."""


class CispoObjectiveConfig(Node):
    """CISPO (MiniMax-M1, 2025): stop-gradient clipped IS weight times A times logprob."""

    name: Literal["cispo"] = "cispo"
    eps_low: float | None = Field(None, gt=0, lt=1)
    """Lower clip of the weight; None = no lower bound (as in the paper)."""
    eps_high: float = Field(0.28, gt=0)
    """Upper clip of the weight: min(ratio, 1 + eps_high), gradient stopped."""


class ReinforceObjectiveConfig(Node):
    """Plain REINFORCE (Williams 1992): -A * logprob; ignores the ratio (on-policy use)."""

    name: Literal["reinforce"] = "reinforce"


Objective = Annotated[Union[PpoClipObjectiveConfig, GspoObjectiveConfig, CispoObjectiveConfig, ReinforceObjectiveConfig],
                      Field(discriminator="name")]

Aggregation = Literal["token_mean", "seq_mean_token_sum", "seq_mean_token_mean",
                      "seq_mean_token_sum_norm"]


class AlgorithmConfig(Node):
    """The algorithm as orthogonal axes (DESIGN.md). ``preset`` records which bundle, if any,
    supplied the defaults; every value below is what is actually used."""

    preset: str | None = None
    """Name of the preset that supplied the defaults (set by the loader; informational)."""
    advantage: Advantage = GrpoAdvantageConfig()
    """How rewards become advantages; chosen by ``name`` (grpo, dr_grpo, rloo, reinforce_pp,
    ...)."""
    objective: Objective = PpoClipObjectiveConfig()
    """The per-token policy loss; chosen by ``name`` (ppo_clip, gspo, cispo, reinforce)."""
    aggregation: Aggregation = "token_mean"
    """How per-token losses become one scalar; normalisers span the whole optimizer batch."""
    epochs: int = Field(1, ge=1)
    """Update epochs (mu) over each rollout batch."""
    minibatches: int = Field(1, ge=1)
    """Optimizer steps per epoch; the rollout batch is split into this many minibatches."""
    kl: KlPenaltyConfig | None = None
    """KL to a reference policy; null = off, and then no reference model is loaded."""
    entropy: EntropyBonusConfig | None = None
    """Entropy bonus (fixed or adaptive coefficient); null = off."""
    token_select: TokenSelectConfig | None = None
    """Keep only the highest-entropy share of tokens in the policy loss; null = all tokens."""
    sample_weights: SampleWeightsConfig | None = None
    """Separate weights for positive- and negative-advantage samples; null = both 1."""
    offpolicy: OffPolicyCorrectionConfig | None = OffPolicyCorrectionConfig()
    """Importance weights between the sampler's and the trainer's logprobs (on by default)."""
    group_filter: GroupFilterConfig | None = None
    """Dynamic sampling: drop low-variance groups and sample more (DAPO)."""
    mask_truncated: bool = False
    """Leave completions that hit max_new_tokens out of the loss (DAPO's overlong filtering)."""
    hints: HintsConfig | None = None
    """Re-sample all-fail groups with a hint, trained under the hint-free prompt; null = off."""
    expert_traces: ExpertTracesConfig | None = None
    """LUFFY: the reference solution joins each group as an off-policy sample; null = off."""
    sft_mix: SftMixConfig | None = None
    """Add coef x the SFT loss of the step's prompts' references to the RL loss (logged as
    update/sft_loss); null = off."""
    distill: DistillConfig | None = None
    """On-policy distillation from a frozen teacher (per-token reverse KL); null = off, and then
    no teacher is loaded."""

    @property
    def group_relative(self) -> bool:
        """Whether the algorithm needs at least two samples per group."""
        return self.advantage.group_relative or self.group_filter is not None

    @model_validator(mode="after")
    def _check(self) -> "AlgorithmConfig":
        if self.hints is not None and self.offpolicy is None:
            raise ValueError("algorithm.hints needs algorithm.offpolicy: hinted samples are "
                             "trained under the hint-free prompt and only its importance weight "
                             "pi_old(y|x) / pi_sampler(y|x,hint) corrects for the hint")
        if self.expert_traces is not None and self.kl is not None \
                and self.kl.placement == "reward":
            raise ValueError("algorithm.expert_traces does not work with algorithm.kl.placement="
                             "reward (an expert trace has no sampler logprobs to take the KL "
                             "at); use placement: loss")
        return self
