"""Length rewards, computed from the completion's token count.

* ``overlong_penalty``: DAPO's soft overlong punishment (Yu et al. 2025, eq. 13). With
  L_max = ``max_tokens`` and L_cache = ``buffer_tokens``:
  0 if n <= L_max - L_cache; ((L_max - L_cache) - n) / L_cache if L_max - L_cache < n <= L_max;
  -1 if n > L_max.
* ``target_length_penalty``: a penalty for correct answers only (seed catalogue 2C-C5: LASER,
  L1/LCPO style): -min(1, |n - target| / target), or only the part above the target when
  ``one_sided``. Wrong answers get 0, so the policy is never paid for being short and wrong.
"""

from __future__ import annotations


def overlong_penalty(num_tokens: int, max_tokens: int, buffer_tokens: int) -> float:
    start = max_tokens - buffer_tokens
    if num_tokens <= start:
        return 0.0
    if num_tokens <= max_tokens:
        return (start - num_tokens) / buffer_tokens
    return -1.0


def target_length_penalty(num_tokens: int, target_tokens: int, correct: bool,
                          one_sided: bool = True) -> float:
    if not correct:
        return 0.0
    excess = num_tokens - target_tokens
    if one_sided:
        excess = max(0, excess)
    return -min(1.0, abs(excess) / target_tokens)
