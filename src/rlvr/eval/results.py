"""The evaluation results file: per-prompt records, the summary, and atomic, resumable writes.

One JSON file per (model, task) evaluation::

    {"format": "rlvr-eval/1", "status": "partial" | "complete",
     "model": ..., "task": ..., "settings": {n, ks, temperature, ...},
     "prompts": [{"row_id", "n", "c", "scores", "answers", "finish", "lengths",
                  "greedy_correct", "greedy_text", "errors"}, ...],
     "summary": {"num_prompts", "pass@k": {"1": {"value", "low", "high"}, ...}, "maj@k": ...,
                 "mean_accuracy": ..., "greedy_accuracy": ..., ...}}

``n`` (scored samples) and ``c`` (correct samples) per prompt are enough to recompute any pass@k;
``answers`` and ``scores`` recompute maj@k. The file is rewritten atomically (temp file + rename)
after every batch of prompts, so an interrupted evaluation resumes from the last batch written.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rlvr.types import CORRECT_AT, is_correct

FORMAT = "rlvr-eval/1"
__all__ = ["CORRECT_AT", "FORMAT", "EvalResult", "PromptRecord", "load_result", "resume_or_new",
           "save_result"]


@dataclass
class PromptRecord:
    """Everything measured on one prompt. ``scores`` has None for unscorable samples."""

    row_id: str
    scores: list[float | None]
    answers: list[str | None]
    finish: list[str]
    lengths: list[int]
    greedy_correct: bool | None = None
    greedy_text: str | None = None
    errors: int = 0  # samples whose verifier reported an infrastructure error
    correct: list[bool] | None = None
    """Per sample, ``is_correct`` of its RewardResult (the correctness component, so an
    episode's discounted right answer counts); None in older files: judged by the score."""
    tool_calls: list[int] | None = None
    """Per sample, the episode's tool calls; None for single-turn samples (and older files)."""
    greedy_tool_calls: int | None = None

    @property
    def n(self) -> int:
        """Scored samples (unscorable and errored ones are left out)."""
        return sum(s is not None for s in self.scores)

    @property
    def c(self) -> int:
        return sum(self.correct_flags())

    def correct_flags(self) -> list[bool]:
        """Correctness of every sample, one per episode (never per turn)."""
        if self.correct is None:
            return [is_correct(s) for s in self.scores]
        return [ok and s is not None for ok, s in zip(self.correct, self.scores)]

    def to_json(self) -> dict[str, Any]:
        return {"row_id": self.row_id, "n": self.n, "c": self.c, **{
            key: value for key, value in asdict(self).items() if key != "row_id"}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptRecord:
        fields = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**fields)


@dataclass
class EvalResult:
    model: str
    task: str
    settings: dict[str, Any]
    prompts: list[PromptRecord] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    status: str = "partial"

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "status": self.status, "model": self.model, "task": self.task,
                "settings": self.settings, "summary": self.summary,
                "prompts": [p.to_json() for p in self.prompts]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalResult:
        if data.get("format") != FORMAT:
            raise ValueError(f"not an rlvr evaluation file (format {data.get('format')!r}, "
                             f"expected {FORMAT!r})")
        return cls(model=data["model"], task=data["task"], settings=data["settings"],
                   prompts=[PromptRecord.from_json(p) for p in data["prompts"]],
                   summary=data.get("summary", {}), status=data["status"])


def save_result(result: EvalResult, path: str | Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result.to_json(), indent=1))
    os.replace(tmp, path)


def load_result(path: str | Path) -> EvalResult:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    return EvalResult.from_json(data)


def resume_or_new(path: str | Path | None, model: str, task: str,
                  settings: dict[str, Any]) -> EvalResult:
    """The partial result at ``path`` when its model, task and settings match, else a new one.

    A mismatch raises: silently mixing samples drawn under different settings would corrupt the
    estimates. Delete the file (or pass another path) to start over.
    """
    if path is None or not Path(path).exists():
        return EvalResult(model=model, task=task, settings=settings)
    previous = load_result(path)
    mine = {"model": model, "task": task, "settings": _jsonable(settings)}
    theirs = {"model": previous.model, "task": previous.task, "settings": previous.settings}
    if mine != theirs:
        diff = sorted(key for key in set(mine["settings"]) | set(theirs["settings"])
                      if mine["settings"].get(key) != theirs["settings"].get(key))
        if mine["model"] != theirs["model"] or mine["task"] != theirs["task"]:
            diff = ["model/task"] + diff
        raise ValueError(f"{path} holds an evaluation with different settings ({', '.join(diff)}); "
                         "delete it or write to another --out file")
    return previous


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))
