"""Simple verifiers for file tasks: numeric and exact match of the final answer."""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from rlvr.types import RewardResult, TaskRow

_MAX_CHARS = 10_000
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:/\d+)?|[-+]?\.\d+")


def _to_number(text: str) -> Fraction | None:
    text = text.replace(",", "").strip()
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def last_number(text: str) -> str | None:
    found = _NUMBER.findall(unicodedata.normalize("NFKC", text[-_MAX_CHARS:]).replace("\u2212", "-"))
    return found[-1] if found else None


def numeric_match(completion: str, row: TaskRow) -> RewardResult:
    """1 when the last number in the completion equals the reference number (exactly, as
    rationals, so 0.5 == 1/2), else 0. A reference that is not a number is unscorable."""
    gold = _to_number(row.reference)
    if gold is None:
        return RewardResult.unscorable(f"reference is not a number: {row.reference[:40]!r}")
    answer = last_number(completion)
    if answer is None:
        return RewardResult.scored(0.0, "no_answer")
    value = _to_number(answer)
    ok = value is not None and value == gold
    return RewardResult.scored(float(ok), "correct" if ok else "wrong")


def exact_match(completion: str, row: TaskRow) -> RewardResult:
    ok = completion.strip() == row.reference.strip()
    return RewardResult.scored(float(ok), "correct" if ok else "wrong")


def exact_match_nocase(completion: str, row: TaskRow) -> RewardResult:
    ok = completion.strip().casefold() == row.reference.strip().casefold()
    return RewardResult.scored(float(ok), "correct" if ok else "wrong")


BASIC_VERIFIERS = {"numeric": numeric_match, "exact": exact_match, "exact_nocase": exact_match_nocase}
