"""Config of checkpointing, resume guards, step guards and dataset validation (docs/reliability.md).

Two sections of ``RunConfig``: ``checkpoint:`` (what is saved, how often, how many are kept,
which changes a resume may accept) and ``reliability:`` (non-finite step guard, deterministic
mode, the quarantine threshold of broken dataset rows).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rlvr.configs.base import Node

Mismatch = Literal["config", "dataset", "tokenizer"]


class CheckpointConfig(Node):
    every: int = Field(10, ge=0)
    """Save a resumable checkpoint every N steps (and at the last step); 0 saves only at the end
    and on preemption (SIGTERM)."""
    keep_last: int = Field(2, ge=1)
    """Complete checkpoints kept; older ones are deleted only after a new one verifies."""
    verify: Literal["sha256", "size"] = "sha256"
    """How a checkpoint is verified before it is resumed from or rotation relies on it: the
    sha256 of every file (exact) or only the sizes (fast, for large models)."""
    allow_mismatch: list[Mismatch] = Field(default_factory=list)
    """Identity checks a resume may skip: 'config' (a changed hyperparameter), 'dataset' (other
    train rows; the data position is reset to the start of an epoch) or 'tokenizer'."""


class ReliabilityConfig(Node):
    max_consecutive_nonfinite: int = Field(3, ge=1)
    """Abort with a diagnostic after this many steps in a row whose loss or gradient norm was not
    finite (each such optimizer step is skipped and counted)."""
    deterministic: bool = False
    """Deterministic CPU mode: torch deterministic algorithms, one intra-op thread, seeded
    python / numpy / torch. Resume is exact either way; this also makes two fresh runs equal."""
    max_row_bytes: int = Field(1_000_000, ge=1)
    """Dataset rows larger than this (bytes of the JSON line) are quarantined at load."""
    max_quarantined_share: float = Field(0.05, ge=0, le=1)
    """Abort at load when more than this share of a dataset file's rows was quarantined."""
