"""Benchmark suites from the Hugging Face hub (``rlvr eval --suite NAME --suite-fetch``): each
suite's public release loaded with ``datasets.load_dataset`` and mapped into the suite's local
row layout (data/suites.py), so one row builder serves both. ``datasets`` is imported only here,
on use; it is not an rlvr dependency (docs/evaluation.md "Fetching suites")."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlvr.types import TaskRow


class SuiteFetchError(ValueError):
    """A suite could not be loaded from the hub; the message says what to do instead (a
    ValueError: ``rlvr eval`` reports it as one line, exit status 2)."""


def _number(value: Any) -> str:
    """AMC answers are stored as floats (142.0): the integer's text when it is one."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def math_record(record: dict) -> dict:
    """MATH-500 / AIME / AMC: problem and answer (MATH-500's unique_id kept as the row id)."""
    keep = {k: record[k] for k in ("problem", "solution", "unique_id", "id") if k in record}
    return {**keep, "answer": _number(record["answer"])}


def same_record(record: dict) -> dict:
    """GSM8K and HumanEval: the hub's records already have the local layout."""
    return dict(record)


def gpqa_record(record: dict) -> dict:
    """GPQA's Question / Correct Answer / Incorrect Answer 1-3 as question, 4 choices, answer
    index; the correct option's place comes from a hash of the question (the same on every
    machine, not always A)."""
    correct = record["Correct Answer"].strip()
    wrong = [record[f"Incorrect Answer {i}"].strip() for i in (1, 2, 3)]
    place = zlib.crc32(record["Question"].encode()) % 4
    choices = wrong[:place] + [correct] + wrong[place:]
    return {"id": record.get("Record ID", ""), "question": record["Question"].strip(),
            "choices": choices, "answer": place}


@dataclass(frozen=True)
class HubSource:
    hub_id: str
    config: str | None
    split: str
    record: Callable[[dict], dict]  # hub record -> the suite's local layout
    note: str = ""  # said in the error (gated sets)


HUB: dict[str, HubSource] = {
    "math500": HubSource("HuggingFaceH4/MATH-500", None, "test", math_record),
    "aime": HubSource("AI-MO/aimo-validation-aime", None, "train", math_record),
    "amc": HubSource("AI-MO/aimo-validation-amc", None, "train", math_record),
    "gsm8k": HubSource("openai/gsm8k", "main", "test", same_record),
    "gpqa": HubSource("Idavidrein/gpqa", "gpqa_diamond", "train", gpqa_record,
                      note="gated: accept its terms on the hub page and log in "
                           "(`huggingface-cli login` or HF_TOKEN) first"),
    "humaneval": HubSource("openai/openai_humaneval", None, "test", same_record),
}


def hub_rows(suite: Any, records: list[dict]) -> list[TaskRow]:
    """The suite's rows from hub ``records`` (hand-written ones in tests)."""
    source = HUB[suite.name]
    rows = [suite.row(source.record(dict(r)), f"{source.hub_id}: row {i}", i)
            for i, r in enumerate(records)]
    if not rows:
        raise SuiteFetchError(f"suite {suite.name}: {source.hub_id} has no rows")
    return rows


def _alternative(suite: Any) -> str:
    return (f"locally instead: put the full set in DIR/{suite.file} ({suite.layout}) and pass "
            "--suite-dir DIR, or use --suite-sample for the small shipped sample")


def fetch_records(suite: Any) -> list[dict]:
    """Every record of the suite's hub release (``datasets.load_dataset``)."""
    source = HUB[suite.name]
    try:
        import datasets
    except ImportError as err:
        raise SuiteFetchError(f"suite {suite.name}: --suite-fetch needs the datasets package "
                              f"(pip install datasets); {_alternative(suite)}") from err
    try:
        loaded = datasets.load_dataset(source.hub_id, source.config, split=source.split)
    except Exception as err:  # noqa: BLE001  network, auth, a moved set: one line, then the way out
        first = (str(err).strip().splitlines() or [""])[0][:300]
        gated = f" ({source.note})" if source.note else ""
        raise SuiteFetchError(
            f"suite {suite.name} ({suite.title}): could not load {source.hub_id}"
            f"{'/' + source.config if source.config else ''} split {source.split} from the "
            f"Hugging Face hub{gated}: {type(err).__name__}: {first}; {_alternative(suite)}"
        ) from err
    return [dict(r) for r in loaded]


def fetch_suite_rows(suite: Any) -> list[TaskRow]:
    return hub_rows(suite, fetch_records(suite))
