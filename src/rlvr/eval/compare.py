"""Compare evaluations: pass@k curves, a table, and the reasoning-boundary overlap.

The overlap asks which prompts each model can solve with a budget of k samples. A prompt counts
as *solved at k* when its pass@k estimate is at least 1/2 (a correct answer is more likely than
not among k samples). At k = n this is "some sample was correct" (c > 0), the criterion of the
reasoning-boundary papers; at k = 1 it is "correct at least half of the time".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rlvr.eval.bootstrap import bootstrap_ci
from rlvr.eval.passk import pass_at_k, pass_at_k_matrix
from rlvr.eval.results import EvalResult, PromptRecord
from rlvr.eval.summary import summarize

SOLVED_AT = 0.5


@dataclass(frozen=True)
class Overlap:
    """Prompt counts of the 2x2 solved/unsolved table of model A against model B at k."""

    a: str
    b: str
    k: int
    only_a: int
    only_b: int
    both: int
    neither: int

    @property
    def total(self) -> int:
        return self.only_a + self.only_b + self.both + self.neither


def label_of(result: EvalResult, path: str | Path | None = None) -> str:
    return Path(path).stem if path is not None else result.model


def common_rows(results: Sequence[EvalResult]) -> list[str]:
    """Row ids scored by every result (the comparison is paired on these prompts)."""
    tasks = {r.task for r in results}
    if len(tasks) > 1:
        raise ValueError(f"results are on different tasks: {sorted(tasks)}")
    sets = [{p.row_id for p in r.prompts if p.n > 0} for r in results]
    rows = [p.row_id for p in results[0].prompts if all(p.row_id in s for s in sets)]
    if not rows:
        raise ValueError("the results share no scored prompt")
    return rows


def on_rows(result: EvalResult, rows: Sequence[str]) -> EvalResult:
    """``result`` restricted to ``rows`` (summary recomputed), so that tables are paired."""
    if [p.row_id for p in result.prompts if p.n > 0] == list(rows):
        return result
    keep = set(rows)
    prompts = [p for p in result.prompts if p.row_id in keep]
    ks = [int(k) for k in result.summary.get("pass@k", {})] or result.settings["ks"]
    return EvalResult(result.model, result.task, result.settings, prompts,
                      summarize(prompts, ks, seed=result.settings.get("seed", 0)), result.status)


def compare_text(results: Sequence[EvalResult], labels: Sequence[str], k: int | None) -> str:
    """The Markdown of `rlvr compare`: the pass@k table on the common prompts, then (for two or
    more files) the paired differences and the solved-set overlaps against the first file."""
    rows = common_rows(results)
    results = [on_rows(r, rows) for r in results]
    text = (f"## pass@k ({len(rows)} common prompts; 95 % bootstrap intervals, %)\n\n"
            + curve_table(results, labels) + "\n")
    if len(results) < 2:
        return text
    k = k or min(p.n for r in results for p in r.prompts)
    all_ks = sorted({int(j) for r in results for j in r.summary.get("pass@k", {})})
    pairs = list(zip(results[1:], labels[1:]))
    diffs = [(labels[0], label, paired_difference(results[0], other, all_ks))
             for other, label in pairs]
    overlaps = [overlap(results[0], other, k, labels[0], label) for other, label in pairs]
    return (text + "\n## Paired difference to the first (percentage points, 95 % paired "
            "bootstrap)\n\n" + difference_table(diffs) + "\n"
            + f"\n## Solved-set overlap at k={k} (solved: pass@k >= 1/2)\n\n"
            + overlap_table(overlaps) + "\n")


def solved(record: PromptRecord, k: int) -> bool:
    return pass_at_k(record.n, record.c, k) >= SOLVED_AT


def overlap(a: EvalResult, b: EvalResult, k: int, label_a: str, label_b: str) -> Overlap:
    """Solved-set overlap of two evaluations at k on their common prompts."""
    rows = common_rows([a, b])
    by_a = {p.row_id: p for p in a.prompts}
    by_b = {p.row_id: p for p in b.prompts}
    max_k = min(min(by_a[r].n, by_b[r].n) for r in rows)
    if not 1 <= k <= max_k:
        raise ValueError(f"overlap k={k} must lie in 1..{max_k} (the smallest n of both files)")
    counts = {"only_a": 0, "only_b": 0, "both": 0, "neither": 0}
    for row in rows:
        sa, sb = solved(by_a[row], k), solved(by_b[row], k)
        key = "both" if sa and sb else "only_a" if sa else "only_b" if sb else "neither"
        counts[key] += 1
    return Overlap(label_a, label_b, k, **counts)


def paired_difference(a: EvalResult, b: EvalResult, ks: Sequence[int],
                      seed: int = 0) -> dict[int, dict[str, float]]:
    """pass@k(B) - pass@k(A) on the common prompts, with a paired bootstrap interval: the same
    resampled prompts enter both means, so prompt difficulty cancels and the interval is much
    tighter than the two separate intervals suggest."""
    rows = common_rows([a, b])
    by_a = {p.row_id: p for p in a.prompts}
    by_b = {p.row_id: p for p in b.prompts}
    ks = [k for k in ks if all(k <= min(by_a[r].n, by_b[r].n) for r in rows)]
    pa_PK = pass_at_k_matrix([by_a[r].n for r in rows], [by_a[r].c for r in rows], ks)
    pb_PK = pass_at_k_matrix([by_b[r].n for r in rows], [by_b[r].c for r in rows], ks)
    diff_PK = pb_PK - pa_PK
    low_K, high_K = bootstrap_ci(diff_PK, seed=seed)
    return {k: {"value": float(np.mean(diff_PK[:, j])), "low": float(low_K[j]),
                "high": float(high_K[j])} for j, k in enumerate(ks)}


def difference_table(diffs: Sequence[tuple[str, str, dict[int, dict[str, float]]]]) -> str:
    """Rows 'B - A' with the paired difference of pass@k per k, in percentage points."""
    ks = sorted({k for _, _, d in diffs for k in d})
    lines = ["| B - A | " + " | ".join(f"Δ pass@{k}" for k in ks) + " |",
             "|" + "---|" * (len(ks) + 1)]
    for a, b, d in diffs:
        lines.append(f"| {b} - {a} | " + " | ".join(_fmt(d.get(k), signed=True) for k in ks)
                     + " |")
    return "\n".join(lines)


def curve_table(results: Sequence[EvalResult], labels: Sequence[str]) -> str:
    """A Markdown table: one row per model, pass@k with intervals per k, then greedy and maj@k."""
    ks = sorted({int(k) for r in results for k in r.summary.get("pass@k", {})})
    head = ["model", "prompts", "greedy"] + [f"pass@{k}" for k in ks] + [f"maj@{ks[-1]}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result, label in zip(results, labels):
        s = result.summary
        cells = [label, str(s.get("num_prompts", "")), _fmt(s.get("greedy_accuracy"))]
        cells += [_fmt(s["pass@k"].get(str(k))) for k in ks]
        cells.append(_fmt(s.get("maj@k", {}).get(str(ks[-1]))))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def overlap_table(overlaps: Sequence[Overlap]) -> str:
    head = "| A | B | k | only A | only B | both | neither | total |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for o in overlaps:
        lines.append(f"| {o.a} | {o.b} | {o.k} | {o.only_a} | {o.only_b} | {o.both} | "
                     f"{o.neither} | {o.total} |")
    return "\n".join(lines)


def _fmt(entry: dict | None, signed: bool = False) -> str:
    if not entry:
        return "–"
    sign = "+" if signed else ""
    return (f"{100 * entry['value']:{sign}.1f} [{100 * entry['low']:{sign}.1f}, "
            f"{100 * entry['high']:{sign}.1f}]")
