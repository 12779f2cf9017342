"""Core data types passed between the loop stages.

Dimension letters used in tensor names across rlvr:
  B  prompts in a batch          G  samples per prompt (group size)
  N  flattened sequences (B*G)   T  completion tokens (padded)
  P  prompt tokens (padded)      L  full sequence (P + T)
  V  vocabulary
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch

FinishReason = Literal["stop", "length"]
Outcome = Literal["scored", "unscorable", "infra_error"]

CORRECT_AT = 1.0
"""A sample counts as correct when its verifier score reaches this (accuracy, pass@k, maj@k)."""
CORRECTNESS_COMPONENTS = ("task", "judge")
"""Components that say whether the answer is right, before any shaping term is added."""


@dataclass(frozen=True)
class RewardResult:
    """What a verifier says about one completion. Three outcomes, never confused:

    * scored:      ``score`` is a float (wrong answers score 0 or a penalty);
    * unscorable:  ``score is None`` and ``error is None`` (broken row, gold answer unparseable):
                   the sample is masked and gets zero advantage;
    * infra_error: ``error`` is set (worker died, sandbox missing): masked, counted, and the run
                   aborts above a configured share. Never silently 0.
    """

    score: float | None
    components: dict[str, float] = field(default_factory=dict)
    verdict: str = ""
    error: str | None = None

    @property
    def outcome(self) -> Outcome:
        if self.error is not None:
            return "infra_error"
        return "unscorable" if self.score is None else "scored"

    @classmethod
    def scored(cls, score: float, verdict: str = "", **components: float) -> RewardResult:
        return cls(score=float(score), components=dict(components), verdict=verdict)

    @classmethod
    def unscorable(cls, verdict: str) -> RewardResult:
        return cls(score=None, verdict=verdict)

    @classmethod
    def infra_error(cls, error: str) -> RewardResult:
        return cls(score=None, verdict="infra_error", error=error)


def is_correct(reward: RewardResult | float | None, at: float = CORRECT_AT) -> bool:
    """The one definition of "correct". A score (float) is correct when it reaches ``at``; None
    (unscorable) never is. A RewardResult is judged by its correctness component (task, else
    judge) when it has one, so shaping terms cannot make a wrong answer right, else its score."""
    if reward is None or isinstance(reward, (int, float)):
        return reward is not None and float(reward) >= at
    if reward.outcome != "scored":
        return False
    for key in CORRECTNESS_COMPONENTS:
        if key in reward.components:
            return reward.components[key] >= at
    return float(reward.score) >= at


@dataclass(frozen=True)
class TaskRow:
    """One prompt of a task: the user message, the reference answer and task-specific fields."""

    row_id: str
    prompt: str
    reference: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sample:
    """One completion of one prompt, as the rollout engine produced it (token-in, token-out)."""

    row: TaskRow
    prompt_ids: list[int]
    completion_ids: list[int]
    sampler_logprobs: list[float]
    finish_reason: FinishReason
    text: str
    reward: RewardResult | None = None
    self_certainty: float | None = None
    """Mean over tokens of KL(uniform || p_t), when the engine records it (rewards/unsupervised.py)."""
    policy_version: int = 0
    """The policy version (optimizer steps taken) whose weights sampled this completion."""
    loss_mask: list[int] | None = None
    """Per token of ``completion_ids``: 1 where the model sampled it (trained), 0 where an
    environment appended it (tool output, feedback: context only). None means all ones (a
    single-turn completion). ``sampler_logprobs`` is 0.0 on the 0 positions."""
    episode: Any = None
    """A multi-turn episode's record (``rlvr.envs.transcript.Episode``: segments, turns, tool
    calls); None for a single-turn completion. ``text`` is then the last model turn."""
    temperature: float | None = None
    """This sample's own sampling temperature under ``rollout.temperatures`` (None: the run's
    ``rollout.temperature``); the trainer scores it at the same one."""
    hint_level: int = 0
    """The hint tier it was sampled under (``algorithm.hints``; 0: no hint). ``prompt_ids`` are
    then the hint-free prompt and ``sampler_logprobs`` those of the hinted prompt."""
    expert: bool = False
    """An expert trace (``algorithm.expert_traces``): the row's reference, not sampled; its
    ``sampler_logprobs`` are 0.0 (pi_expert = 1, as LUFFY)."""
    token_temperatures: list[float] | None = None
    """The sampling temperature of each completion token under ``rollout.temperature_schedule``
    (None: one per sample, as above); the trainer scores each token at its own."""

    def __post_init__(self) -> None:
        if self.loss_mask is not None and len(self.loss_mask) != len(self.completion_ids):
            raise ValueError(f"Sample {self.row.row_id}: loss_mask has {len(self.loss_mask)} "
                             f"entries for {len(self.completion_ids)} completion tokens")


@dataclass
class Group:
    """The G samples of one prompt."""

    row: TaskRow
    samples: list[Sample]


@dataclass(frozen=True)
class TrainBatch:
    """Padded tensors for the policy update. Prompts are left-padded to P, completions
    right-padded to T, so every completion token sits in the last T+1 positions of the
    L = P + T sequence (the logits of position P-1+t predict completion token t)."""

    input_ids_NL: torch.Tensor
    attention_mask_NL: torch.Tensor
    completion_mask_NT: torch.Tensor  # 1.0 on real completion tokens, 0.0 on padding / masked
    advantages_N: torch.Tensor
    sampler_logprobs_NT: torch.Tensor
    truncated_N: torch.Tensor  # bool: finish_reason == "length"
    ref_logprobs_NT: torch.Tensor | None = None  # the reference policy's, only when KL is on
    # per-row [N] or per-token [N, T] sampling temperature (None: the run's)
    temperature_N: torch.Tensor | None = None
    expert_N: torch.Tensor | None = None  # bool: an expert trace (None: the batch has none)
    teacher_logprobs_NT: torch.Tensor | None = None  # the distillation teacher's, when on

    @property
    def num_sequences(self) -> int:
        return int(self.input_ids_NL.shape[0])

    @property
    def completion_len(self) -> int:
        return int(self.completion_mask_NT.shape[1])

    def select(self, idx_N: torch.Tensor) -> TrainBatch:
        """The rows ``idx_N`` of every tensor (a minibatch or micro-batch)."""
        return TrainBatch(*(None if t is None else t[idx_N] for t in (
            self.input_ids_NL, self.attention_mask_NL, self.completion_mask_NT,
            self.advantages_N, self.sampler_logprobs_NT, self.truncated_N, self.ref_logprobs_NT,
            self.temperature_N, self.expert_N, self.teacher_logprobs_NT)))
