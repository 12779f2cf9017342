"""``algorithm.sft_mix``: coef x the SFT loss of the step's references, added to the RL loss.

One demonstration per prompt of the step (its reference after its rollout prompt, cut at
``rollout.max_new_tokens``), built once per step; its rows are split into as many parts as the
RL batch has minibatches, and part i's backward joins minibatch i's before its optimizer step.
"""

from __future__ import annotations

from typing import Callable

import torch

from rlvr.algorithms.sft import has_reference
from rlvr.trainer.demos import Demonstrations, sft_backward
from rlvr.trainer.parallel import Dist
from rlvr.types import Group


def sft_mix_term(t, groups: list[Group]) -> Callable[[int], dict[str, float]] | None:
    """The per-minibatch backward of the SFT term for ``update`` (None when sft_mix is off):
    called with the minibatch's index, it returns ``update/sft_loss`` and
    ``sft_mix/no_reference`` (prompts of the step without a reference: counted, left out)."""
    mix = t.cfg.algorithm.sft_mix
    if mix is None:
        return None
    rows = [g.row for g in groups if has_reference(g.row)]
    missing = (t.dist or Dist()).sum_floats([float(len(groups) - len(rows))])[0]
    demos = Demonstrations.of(t.policy, t.cfg, t.cfg.rollout.max_new_tokens)
    demo = demos.batch(rows) if rows else None
    parts = list(torch.arange(len(rows)).chunk(t.cfg.algorithm.minibatches)) if rows else []

    def backward(minibatch: int) -> dict[str, float]:
        part = demo.select(parts[minibatch]) if minibatch < len(parts) else None
        loss, _ = sft_backward(t.policy, part, mix.coef, t.cfg.optim.micro_batch_size, t.dist)
        return {"update/sft_loss": loss, "sft_mix/no_reference": missing}

    return backward
