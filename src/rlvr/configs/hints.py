"""Config of the two ways a group gets help its own samples cannot give (docs/algorithms.md):
hints for all-fail groups (``algorithm.hints``) and expert traces (``algorithm.expert_traces``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from rlvr.configs.base import Node


class HintsConfig(Node):
    """Re-sample an all-fail group with a hint appended to its prompt, tier 1..``levels``, moving
    up a tier while the group is still all-fail; the samples are trained under the hint-free
    prompt, their sampler logprobs (taken under the hint) left for ``algorithm.offpolicy``."""

    levels: int = Field(3, ge=1)
    """Most hint tiers tried per group (fewer when the row's source has fewer)."""
    source: Literal["metadata", "reference_prefix"] = "reference_prefix"
    """'metadata': tier k shows the first k entries of ``row.metadata[key]`` (a list of
    strings); 'reference_prefix': tier k shows the first ``fractions[k-1]`` of the
    reference's characters."""
    key: str = "hints"
    """The metadata key holding the list of hints (source 'metadata')."""
    fractions: list[float] = [0.25, 0.5, 0.75]
    """Share of the reference's characters shown at each tier (source 'reference_prefix'),
    increasing, each in (0, 1]; at least one character is shown."""
    template: str = "\n\nHint: {hint}"
    """Appended to the row's prompt text; ``{hint}`` is replaced by the tier's hint."""

    @model_validator(mode="after")
    def _check(self) -> HintsConfig:
        f = self.fractions
        if not f or any(not 0 < x <= 1 for x in f) or any(a >= b for a, b in zip(f, f[1:])):
            raise ValueError(f"algorithm.hints.fractions={f}: give increasing shares in (0, 1]")
        if self.source == "reference_prefix" and self.levels > len(f):
            raise ValueError(f"algorithm.hints.levels={self.levels} but fractions has {len(f)} "
                             "entries (one per tier): add fractions or lower levels")
        if "{hint}" not in self.template:
            raise ValueError(f"algorithm.hints.template={self.template!r} must contain '{{hint}}'")
        return self


class PolicyShapingConfig(Node):
    """LUFFY policy shaping (Yan et al. 2025): an expert token's ratio x = pi_theta / pi_expert
    (pi_expert = 1) enters the loss as f(x) = x / (x + gamma), unclipped."""

    gamma: float = Field(0.1, gt=0)
    """f(x) = x / (x + gamma): smaller gamma, more weight on the expert's low-probability tokens."""


class ExpertTracesConfig(Node):
    """LUFFY (Yan et al. 2025): the row's reference solution joins each group as off-policy
    samples, scored by the verifier and counted in the group's baseline like any sample."""

    per_group: int = Field(1, ge=1, le=8)
    """Copies of the expert trace added to each group (the group grows by this many)."""
    source: Literal["reference"] = "reference"
    """Where the trace comes from: the row's ``reference``."""
    template: str = "{reference}"
    """The trace's text; ``{reference}`` is replaced by the row's reference (e.g. wrap it in the
    answer format the verifier expects)."""
    shaping: PolicyShapingConfig | None = PolicyShapingConfig()
    """Policy shaping of the expert tokens; null = the run's objective on them (ratio to the
    old policy, clipped)."""

    @model_validator(mode="after")
    def _check(self) -> ExpertTracesConfig:
        if "{reference}" not in self.template:
            raise ValueError(f"algorithm.expert_traces.template={self.template!r} must contain "
                             "'{reference}'")
        return self


def check_help_fits(cfg: Any) -> None:
    """Hints and expert traces build single-turn samples from ``row.prompt``: refused with a
    multi-turn environment (a ``RunConfig``)."""
    algo = cfg.algorithm
    if cfg.env is None or cfg.env.name == "single_turn":
        return
    for key in ("hints", "expert_traces"):
        if getattr(algo, key) is not None:
            raise ValueError(f"algorithm.{key} does not work with env.name={cfg.env.name} yet "
                             "(it builds single-turn samples); set it to null or drop env")
