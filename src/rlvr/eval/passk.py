"""Unbiased pass@k (Chen et al., 2021, "Evaluating Large Language Models Trained on Code").

With n samples of one prompt of which c are correct, the probability that a random subset of k
distinct samples (drawn without replacement) contains at least one correct sample is

    pass@k = 1 - C(n - c, k) / C(n, k)

which is an unbiased estimate of 1 - (1 - p)^k for the prompt's true success rate p. Binomials
overflow for large n, so the ratio is computed as a product of k-free factors:

    C(n - c, k) / C(n, k) = prod_{i = n - c + 1}^{n} (1 - k / i)

(the product has c factors, each in [0, 1), so it never overflows). Closed forms that the tests
check: c = 0 -> 0, c = n -> 1, k = n -> 1[c > 0], k = 1 -> c / n, n - c < k -> 1.

"Best@k by bootstrap" (draw k of the n samples with replacement and take the best) is biased
low, because resampling repeats samples; this module never does that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rlvr.configs.eval import default_ks


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate for one prompt with ``c`` correct of ``n`` samples."""
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    factors = 1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)
    return float(1.0 - np.prod(factors))


def pass_at_k_matrix(n_P: Sequence[int], c_P: Sequence[int], ks: Sequence[int]) -> np.ndarray:
    """pass@k for every prompt (rows) and every k (columns); NaN where k > n of that prompt."""
    out_PK = np.full((len(n_P), len(ks)), np.nan)
    for p, (n, c) in enumerate(zip(n_P, c_P)):
        for j, k in enumerate(ks):
            if k <= n:
                out_PK[p, j] = pass_at_k(int(n), int(c), int(k))
    return out_PK


def parse_ks(text: str | None, n: int) -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4] (sorted, unique, each in 1..n); None -> default_ks(n)."""
    if text is None:
        return default_ks(n)
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"--k expects comma-separated integers such as 1,2,4; got {text!r}") from None
    bad = [k for k in ks if not 1 <= k <= n]
    if bad or not ks:
        raise ValueError(f"--k values must lie in 1..n={n}; got {text!r}")
    return ks


def all_ks(values: Iterable[int]) -> list[int]:
    return sorted(set(int(v) for v in values))
