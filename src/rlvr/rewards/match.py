"""String and numeric match verifiers: exact, case-insensitive, and numeric with a tolerance.

Each compares the extracted final answer (``extract.py``: the last ``\\boxed{}``, ``Answer:`` line or
``<answer>`` tag; the last number for ``numeric``) with ``row.reference`` after Unicode
normalisation. Numbers compare as exact rationals (``exact.py``) within ``abs_tol`` / ``rel_tol``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from rlvr.rewards.exact import NotExact, TooLarge, exact_value
from rlvr.rewards.extract import extract_final_answer
from rlvr.rewards.normalise import normalise_answer, thousands, unicode_clean
from rlvr.types import RewardResult, TaskRow

MatchMode = Literal["exact", "nocase", "numeric"]


def _number(text: str) -> Fraction | None:
    try:
        return exact_value(normalise_answer(text))
    except (NotExact, TooLarge):
        return None


def numbers_close(pred: Fraction, gold: Fraction, rel_tol: float = 0.0, abs_tol: float = 0.0) -> bool:
    """|pred - gold| <= max(abs_tol, rel_tol * |gold|); exact equality when both are 0."""
    diff = abs(pred - gold)
    return diff <= max(Fraction(abs_tol), Fraction(rel_tol) * abs(gold))


@dataclass(frozen=True)
class MatchVerifier:
    """``exact``: the answer equals the reference (whitespace-trimmed, Unicode-normalised).
    ``nocase``: the same, case-folded. ``numeric``: both are numbers within the tolerance."""

    mode: MatchMode = "exact"
    rel_tol: float = 0.0
    abs_tol: float = 0.0

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        if self.mode == "numeric":
            return self._numeric(completion, row)
        extracted = extract_final_answer(completion, allow_last_number=False)
        answer = extracted.text if extracted.text is not None else completion[-4096:]
        pred, gold = unicode_clean(answer).strip(), unicode_clean(row.reference).strip()
        if not gold:
            return RewardResult.unscorable("gold_empty")
        if self.mode == "nocase":
            pred, gold = pred.casefold(), gold.casefold()
        ok = " ".join(pred.split()) == " ".join(gold.split())
        return RewardResult.scored(float(ok), "correct" if ok else "wrong")

    def _numeric(self, completion: str, row: TaskRow) -> RewardResult:
        gold = _number(thousands(row.reference.strip()))
        if gold is None:
            return RewardResult.unscorable(f"reference is not a number: {row.reference[:40]!r}")
        extracted = extract_final_answer(completion)
        if extracted.text is None:
            return RewardResult.scored(0.0, extracted.source)
        pred = _number(extracted.text)
        ok = pred is not None and numbers_close(pred, gold, self.rel_tol, self.abs_tol)
        return RewardResult.scored(float(ok), "correct" if ok else "wrong")
