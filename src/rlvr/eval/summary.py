"""Turn per-prompt records into the headline numbers, each with a bootstrap interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlvr.eval.bootstrap import DEFAULT_RESAMPLES, bootstrap_ci
from rlvr.eval.majk import maj_at_k
from rlvr.eval.passk import pass_at_k_matrix
from rlvr.eval.results import PromptRecord


def _with_ci(values_PK: np.ndarray, keys: Sequence[Any], level: float, resamples: int,
             seed: int) -> dict[str, dict[str, float]]:
    low_K, high_K = bootstrap_ci(values_PK, level, resamples, seed)
    out = {}
    for j, key in enumerate(keys):
        column = values_PK[:, j]
        column = column[~np.isnan(column)]
        if column.size == 0:
            continue
        out[str(key)] = {"value": float(column.mean()), "low": float(low_K[j]),
                         "high": float(high_K[j]), "prompts": int(column.size)}
    return out


def maj_matrix(prompts: Sequence[PromptRecord], ks: Sequence[int], seed: int = 0) -> np.ndarray:
    """maj@k per prompt (rows) and k (columns) over the scored samples; NaN where k > n."""
    out_PK = np.full((len(prompts), len(ks)), np.nan)
    for p, record in enumerate(prompts):
        scored = [(a, ok) for a, ok, s in zip(record.answers, record.correct_flags(),
                                              record.scores) if s is not None]
        answers = [a for a, _ in scored]
        correct = [float(ok) for _, ok in scored]
        for j, k in enumerate(ks):
            if k <= len(scored):
                out_PK[p, j] = maj_at_k(answers, correct, k, seed=seed)
    return out_PK


def summarize(prompts: Sequence[PromptRecord], ks: Sequence[int], level: float = 0.95,
              resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """pass@k, maj@k, mean accuracy and score, greedy accuracy (all with intervals over
    prompts), plus completion-length statistics. Prompts without a scored sample are counted
    and left out of every estimate."""
    valid = [p for p in prompts if p.n > 0]
    n_P = [p.n for p in valid]
    c_P = [p.c for p in valid]
    summary: dict[str, Any] = {
        "num_prompts": len(valid),
        "unscorable_prompts": len(prompts) - len(valid),
        "infra_errors": sum(p.errors for p in prompts),
        "samples": int(sum(n_P)),
        "pass@k": _with_ci(pass_at_k_matrix(n_P, c_P, ks), ks, level, resamples, seed),
        "maj@k": _with_ci(maj_matrix(valid, ks, seed), ks, level, resamples, seed),
        "ci_level": level,
    }
    if valid:
        acc_P1 = np.array([[c / n] for n, c in zip(n_P, c_P)])
        score_P1 = np.array([[np.mean([s for s in p.scores if s is not None])] for p in valid])
        summary["mean_accuracy"] = _with_ci(acc_P1, ["all"], level, resamples, seed)["all"]
        summary["mean_score"] = _with_ci(score_P1, ["all"], level, resamples, seed)["all"]
    greedy = [[float(p.greedy_correct)] for p in valid if p.greedy_correct is not None]
    if greedy:
        summary["greedy_accuracy"] = _with_ci(np.array(greedy), ["all"], level, resamples,
                                              seed)["all"]
    summary.update(_length_stats(prompts))
    summary.update(_tool_use(prompts))
    return summary


def _tool_use(prompts: Sequence[PromptRecord]) -> dict[str, Any]:
    """The share of episodes that called a tool, sampled and greedy (multi-turn results)."""
    out: dict[str, Any] = {}
    sampled = [int(c > 0) for p in prompts if p.tool_calls is not None for c in p.tool_calls]
    greedy = [int(p.greedy_tool_calls > 0) for p in prompts if p.greedy_tool_calls is not None]
    for key, flags in (("tool_use", sampled), ("greedy_tool_use", greedy)):
        if flags:
            out[key] = {"value": float(np.mean(flags)), "episodes": len(flags)}
    return out


def _length_stats(prompts: Sequence[PromptRecord]) -> dict[str, float]:
    lengths = [n for p in prompts for n in p.lengths]
    finish = [f for p in prompts for f in p.finish]
    if not lengths:
        return {}
    return {"length_mean": float(np.mean(lengths)), "length_max": int(max(lengths)),
            "truncated_share": float(np.mean([f == "length" for f in finish]))}
