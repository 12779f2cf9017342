"""maj@k: the accuracy of majority voting over k samples of one prompt.

Each sample carries an answer key (the extracted final answer, normalised) or None when it
states no answer; samples without an answer do not vote. For a subset S of k samples the vote
picks the most frequent key; ties are split evenly, so the subset's score is

    score(S) = (1 / |T|) * sum_{a in T} correct(a)       T = keys with the top vote count in S

and 0 when no sample in S has an answer. ``correct(a)`` is the mean verifier correctness of the
samples with key a (0 or 1 for a deterministic verifier). maj@k for the prompt is the mean of
score(S) over k-subsets drawn without replacement, like pass@k: computed exactly over all
C(n, k) subsets when there are at most ``max_subsets`` of them, else estimated from
``max_subsets`` uniformly drawn subsets with a seeded generator (unbiased; standard error at most
0.5 / sqrt(max_subsets) per prompt, smaller still after averaging over prompts).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

DEFAULT_MAX_SUBSETS = 2000


def _encode(answers: Sequence[str | None], correct: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Answer keys -> class ids (-1 for no answer) and the correctness of every class."""
    keys = sorted({a for a in answers if a is not None})
    index = {key: i for i, key in enumerate(keys)}
    ids_N = np.array([-1 if a is None else index[a] for a in answers], dtype=np.int64)
    totals = np.zeros(len(keys))
    counts = np.zeros(len(keys))
    for cls, ok in zip(ids_N, correct):
        if cls >= 0:
            totals[cls] += float(ok)
            counts[cls] += 1
    return ids_N, totals / np.maximum(counts, 1)


def _subset_scores(subsets_SK: np.ndarray, ids_N: np.ndarray, class_ok_A: np.ndarray) -> np.ndarray:
    """Majority-vote score of every subset (rows of sample indices), ties split evenly."""
    num_classes = len(class_ok_A)
    if num_classes == 0:
        return np.zeros(len(subsets_SK))
    labels_SK = ids_N[subsets_SK]
    votes_SA = np.zeros((len(subsets_SK), num_classes + 1))
    rows_SK = np.broadcast_to(np.arange(len(subsets_SK))[:, None], labels_SK.shape)
    np.add.at(votes_SA, (rows_SK, labels_SK + 1), 1.0)  # column 0 holds the non-voters
    votes_SA = votes_SA[:, 1:]
    top_S = votes_SA.max(axis=1)
    tied_SA = (votes_SA == top_S[:, None]) & (top_S[:, None] > 0)
    num_tied_S = tied_SA.sum(axis=1)
    ok_S = (tied_SA * class_ok_A[None, :]).sum(axis=1)
    return np.where(num_tied_S > 0, ok_S / np.maximum(num_tied_S, 1), 0.0)


def maj_at_k(answers: Sequence[str | None], correct: Sequence[float], k: int, seed: int = 0,
             max_subsets: int = DEFAULT_MAX_SUBSETS) -> float:
    """maj@k of one prompt from its n samples' answer keys and correctness (see module doc)."""
    n = len(answers)
    if len(correct) != n:
        raise ValueError(f"maj_at_k: {n} answers but {len(correct)} correctness values")
    if not 1 <= k <= n:
        raise ValueError(f"maj_at_k: need 1 <= k <= n, got k={k}, n={n}")
    ids_N, class_ok_A = _encode(answers, correct)
    if math.comb(n, k) <= max_subsets:
        subsets_SK = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
    else:
        rng = np.random.default_rng([seed, n, k])
        subsets_SK = np.argsort(rng.random((max_subsets, n)), axis=1)[:, :k]
    return float(_subset_scores(subsets_SK, ids_N, class_ok_A).mean())
