"""The verdict taxonomy of one code run (reliability.md §1.5). Strings are logged as-is."""

from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    PASS = "PASS"
    FAIL_WRONG = "FAIL_WRONG"
    FAIL_RUNTIME = "FAIL_RUNTIME"
    TIMEOUT = "TIMEOUT"
    MEMORY = "MEMORY"
    OUTPUT_LIMIT = "OUTPUT_LIMIT"
    CRASH_SIGNAL = "CRASH_SIGNAL"
    DATASET_ERROR = "DATASET_ERROR"
    INFRA_ERROR = "INFRA_ERROR"

    def __str__(self) -> str:
        return self.value


CANDIDATE_FAULTS = frozenset({
    Verdict.FAIL_WRONG, Verdict.FAIL_RUNTIME, Verdict.TIMEOUT, Verdict.MEMORY,
    Verdict.OUTPUT_LIMIT, Verdict.CRASH_SIGNAL})
"""Verdicts that score 0: the candidate's own fault."""

SEVERITY = (Verdict.INFRA_ERROR, Verdict.DATASET_ERROR, Verdict.OUTPUT_LIMIT, Verdict.TIMEOUT,
            Verdict.MEMORY, Verdict.CRASH_SIGNAL, Verdict.FAIL_RUNTIME, Verdict.FAIL_WRONG,
            Verdict.PASS)
"""When cases disagree, the run's verdict is the first of these that any case got."""


def worst(verdicts: list[Verdict]) -> Verdict:
    """The overall verdict of several cases (see SEVERITY); PASS only when all passed."""
    return min(verdicts, key=SEVERITY.index)
