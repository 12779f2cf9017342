"""Config of on-policy distillation (``algorithm.distill``): a frozen teacher scores the
student's own samples and its per-token reverse KL becomes (part of) the advantage."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rlvr.configs.base import Node


class DistillConfig(Node):
    """On-policy distillation (Agarwal et al. 2024, GKD; Thinking Machines 2025): per token,
    A_t = -coef * (logp_student_old(y_t) - logp_teacher(y_t)) on the student's sampled tokens,
    the sampled estimate of the reverse KL(student || teacher)."""

    teacher: str
    """The teacher: an embedded model name (`rlvr models list`), a local Hugging Face directory,
    or an rlvr checkpoint / run / final directory. Its tokenizer must equal the student's."""
    coef: float = Field(1.0, gt=0)
    """Weight of the per-token distillation advantage (in both modes)."""
    mode: Literal["only", "add"] = "add"
    """'only': the advantage is the distillation term alone (the RL reward is logged, not
    trained on); 'add': the distillation term is added to the RL advantage of every token."""
    dtype: Literal["float32", "bfloat16"] | None = None
    """Dtype of the teacher's weights; null = the student's ``model.dtype``."""
