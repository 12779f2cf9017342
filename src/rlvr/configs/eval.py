"""Settings of one evaluation, and the optional periodic-evaluation sub-config of training."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import Field, model_validator

from rlvr.configs.base import Node



def default_ks(n: int) -> list[int]:
    """Powers of two up to n, plus n itself: 1, 2, 4, ..., n."""
    ks = []
    k = 1
    while k <= n:
        ks.append(k)
        k *= 2
    if ks[-1] != n:
        ks.append(n)
    return ks


@dataclass(frozen=True)
class EvalSettings:
    """Everything that changes the numbers of an evaluation; stored in the results file, and a
    resumed evaluation must match it exactly."""

    n: int
    """Samples per prompt."""
    ks: list[int] = field(default_factory=list)
    """k values of pass@k / maj@k; default: powers of two up to n, and n."""
    temperature: float = 1.0
    """Sampling temperature of the n samples."""
    top_p: float = 1.0
    """Nucleus sampling threshold of the n samples."""
    max_new_tokens: int = 64
    """Completion length cap of every decode."""
    seed: int = 0
    """Seed of the sampler; each prompt batch derives its own from it."""
    greedy: bool = True
    """Also decode one greedy completion per prompt (greedy accuracy)."""
    prompts_per_batch: int = 8
    """Prompts generated and saved together; the unit of resumption and of seeding."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if not self.ks:
            object.__setattr__(self, "ks", default_ks(self.n))
        bad = [k for k in self.ks if not 1 <= k <= self.n]
        if bad:
            raise ValueError(f"every k must lie in 1..n={self.n}; got {bad}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class PeriodicEvalConfig(Node):
    """Evaluate on the held-out split every ``every`` training steps (``eval.periodic`` in the
    run config; null means no periodic evaluation)."""

    every: int = Field(10, ge=1)
    """Training steps between evaluations (also run after the last step)."""
    n: int = Field(8, ge=1)
    """Samples per prompt."""
    ks: list[int] | None = None
    """k values of pass@k / maj@k; default: powers of two up to n, and n."""
    num_prompts: int | None = Field(None, ge=1)
    """Held-out prompts used; default: all of task.eval_size."""
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature of the n samples."""
    top_p: float = Field(1.0, gt=0, le=1)
    """Nucleus sampling threshold of the n samples."""
    max_new_tokens: int | None = Field(None, ge=1)
    """Default: rollout.max_new_tokens."""
    greedy: bool = True
    """Also measure greedy accuracy (one extra decode per prompt)."""
    seed: int = 0
    """Seed of the sampler (the same at every evaluation, so steps compare)."""

    @model_validator(mode="after")
    def _ks_within_n(self) -> "PeriodicEvalConfig":
        if self.ks is not None and any(not 1 <= k <= self.n for k in self.ks):
            raise ValueError(f"every k in ks={self.ks} must lie in 1..n={self.n}")
        return self

    def settings(self, default_max_new_tokens: int, prompts_per_batch: int = 8) -> EvalSettings:
        return EvalSettings(n=self.n, ks=list(self.ks or default_ks(self.n)),
                            temperature=self.temperature, top_p=self.top_p,
                            max_new_tokens=self.max_new_tokens or default_max_new_tokens,
                            seed=self.seed, greedy=self.greedy,
                            prompts_per_batch=prompts_per_batch)
