"""Simple verifiers for file tasks — numeric, exact and case-insensitive match of the final answer —
as picklable instances of ``rewards.match.MatchVerifier``, plus ``last_number`` for extractors."""

from __future__ import annotations

from rlvr.rewards.extract import NUMBER, answer_region
from rlvr.rewards.match import MatchVerifier
from rlvr.rewards.normalise import unicode_clean


def last_number(text: str) -> str | None:
    """The last number in the completion's answer region (NFKC-normalised), or None."""
    found = NUMBER.findall(answer_region(unicode_clean(text)))
    return found[-1] if found else None


BASIC_VERIFIERS = {
    "numeric": MatchVerifier("numeric"),
    "exact": MatchVerifier("exact"),
    "exact_nocase": MatchVerifier("nocase"),
}
