"""Label-free rewards computed over a group of completions (seed catalogue 2C-C4).

* ``majority_vote_rewards`` — TTRL (Zuo et al. 2025, "Test-Time Reinforcement Learning"): the
  pseudo-label is the most frequent final answer of the group; a sample scores 1 when its answer
  equals it, else 0. In training, answers are compared by the task's answer key (the one maj@k
  uses); ``answer_key`` here is the math tasks' key (exact rational value when the answer is a
  plain number, else the normalised string), so "0.5" and "\\frac12" vote together. Ties break on
  the smallest key, so the result does not depend on sample order.
* ``self_certainty`` — Kang et al. 2025 ("Scalable Best-of-N Selection via Self-Certainty"):
  the mean over completion tokens of KL(U || p_t) = -log V - (1/V) * sum_j log p_t(j), which is
  large when the next-token distributions are peaked. The rollout engine computes it from its
  logits (it is not recoverable from sampled-token logprobs) and records ``Sample.self_certainty``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from rlvr.rewards.exact import NotExact, TooLarge, exact_value
from rlvr.rewards.extract import extract_final_answer
from rlvr.rewards.normalise import normalise_answer

if TYPE_CHECKING:
    import torch


def answer_key(completion: str) -> str | None:
    """The canonical key of a completion's final answer, or None when it has none."""
    extracted = extract_final_answer(completion)
    if extracted.text is None:
        return None
    text = normalise_answer(extracted.text)
    try:
        return f"num:{exact_value(text)}"
    except (NotExact, TooLarge):
        return "str:" + " ".join(text.casefold().split())


def majority_vote_rewards(completions: list[str], min_share: float = 0.0,
                          key: Callable[[str], str | None] = answer_key) -> list[float] | None:
    """1.0 for samples agreeing with the majority answer, else 0.0; None (the group is masked)
    when no sample has an answer or the majority's share is below ``min_share``. ``key`` maps a
    completion to its answer key (the training term passes the task's, data/split.py)."""
    keys = [key(c) for c in completions]
    counts = Counter(k for k in keys if k is not None)
    if not counts:
        return None
    top = max(counts.values())
    label = min(k for k, n in counts.items() if n == top)
    if top / len(completions) < min_share:
        return None
    return [float(k == label) for k in keys]


def self_certainty(logits_TV: "torch.Tensor") -> float:
    """Mean over the T completion positions of KL(uniform || softmax(logits_t))."""
    import torch

    logp_TV = torch.log_softmax(logits_TV.float(), dim=-1)
    vocab = logits_TV.shape[-1]
    kl_T = -math.log(vocab) - logp_TV.mean(dim=-1)
    return float(kl_T.mean()) if kl_T.numel() else 0.0


def token_self_certainty_NT(logits: "tuple[torch.Tensor, ...] | list[torch.Tensor]") -> "torch.Tensor":
    """Per-token KL(U || p_t) from a generate() logits tuple (T tensors of [N, V]) -> [N, T].
    Use the raw logits (``output_logits=True``), not top-p-filtered scores: -inf entries would
    make the KL infinite."""
    import torch

    vocab = logits[0].shape[-1]
    kl = [-math.log(vocab) - torch.log_softmax(l_NV.float(), dim=-1).mean(dim=-1) for l_NV in logits]
    return torch.stack(kl, dim=1).cpu()
