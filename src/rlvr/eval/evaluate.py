"""Sample n completions per held-out prompt, score them with the task's own verifier, and
summarise (pass@k, maj@k, accuracies with bootstrap intervals).

The one evaluation path: `rlvr eval`, periodic evaluation during training and the trainer's
before / after evaluation (eval/periodic.py) all call ``evaluate`` and write its file format. Prompts are processed in fixed
batches of ``settings.prompts_per_batch``; the random generator is re-seeded from
(seed, batch index) before each batch, so an evaluation resumed from its results file draws
exactly the samples an uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from rlvr.configs.eval import EvalSettings
from rlvr.data.split import answer_key  # the task's key that maj@k votes on
from rlvr.eval.results import EvalResult, PromptRecord, resume_or_new, save_result
from rlvr.eval.summary import summarize
from rlvr.types import Group, TaskRow, is_correct


class Engine(Protocol):
    """What evaluation needs of a rollout engine (rollout/engine.py ``RolloutEngine``), built
    once by ``build_engine`` and passed in."""

    def generate(self, rows: list[TaskRow], group_size: int, params: Any,
                 progress: Any = None) -> list[Group]: ...


def batch_seed(seed: int, batch_index: int) -> int:
    return int(np.random.SeedSequence([seed, batch_index]).generate_state(1)[0])


Scorer = Callable[[list[Group]], Any]  # sets sample.reward on every sample of the groups


def score_inline(task: Any) -> Scorer:
    """Score in this process with ``task.verify`` (for trusted verifiers and tests)."""
    def score(groups: list[Group]) -> None:
        for group in groups:
            for sample in group.samples:
                sample.reward = task.verify(sample.text, group.row)
    return score


def evaluate(engine: Engine, task: Any, rows: Sequence[TaskRow], settings: EvalSettings,
             model_name: str, out_path: str | Path | None = None, progress: bool = True,
             scorer: Scorer | None = None, context: dict[str, Any] | None = None,
             sampling_params: Callable[..., Any] | None = None) -> EvalResult:
    """Evaluate ``rows``; with ``out_path`` the results file is written after every batch and an
    existing partial file with the same settings is resumed. Returns the complete result.

    ``scorer`` defaults to the task's verifier alone (no shaping terms of a training reward
    config) run in the reward worker pool, exactly as training scores it. ``context`` (for
    example the task and model config) is stored with the settings and must match on resume."""
    if sampling_params is None:
        from rlvr.rollout.engine import SamplingParams as sampling_params
    if scorer is None:
        from rlvr.rewards.pipeline import RewardPipeline

        with RewardPipeline(task) as pipeline:
            return evaluate(engine, task, rows, settings, model_name, out_path, progress,
                            pipeline.score, context, sampling_params)
    stored = {**settings.to_json(), **({"context": context} if context else {})}
    with torch.random.fork_rng():  # the caller's random streams (CPU and CUDA) stay untouched
        return _evaluate(engine, task, rows, settings, stored, model_name, out_path, progress,
                         scorer, sampling_params)


def _evaluate(engine: Engine, task: Any, rows: Sequence[TaskRow], settings: EvalSettings,
              stored: dict[str, Any], model_name: str, out_path: str | Path | None,
              progress: bool, scorer: Scorer, sampling_params: Callable[..., Any]) -> EvalResult:
    result = resume_or_new(out_path, model_name, task.name, stored)
    done = {p.row_id for p in result.prompts}
    unknown = done - {row.row_id for row in rows}
    if unknown:
        raise ValueError(f"{out_path} holds prompts that are not in this evaluation "
                         f"(e.g. {sorted(unknown)[0]!r}); delete it or write to another file")
    bar = _progress_bar(len(rows), len(done), result.model) if progress else None
    size = settings.prompts_per_batch
    for batch_index, start in enumerate(range(0, len(rows), size)):
        batch = [row for row in rows[start:start + size] if row.row_id not in done]
        if not batch:
            continue
        if len(batch) != len(rows[start:start + size]):
            raise ValueError("a results file holds part of a batch; delete it to start over")
        torch.manual_seed(batch_seed(settings.seed, batch_index))
        result.prompts.extend(_evaluate_batch(engine, task, batch, settings, scorer,
                                              sampling_params))
        if out_path is not None:
            save_result(result, out_path)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    result.summary = summarize(result.prompts, settings.ks, seed=settings.seed)
    task_of = getattr(task, "task_of", None)  # a mixture (data/mixture.py): also one per task
    if callable(task_of):
        by_task: dict[str, list[PromptRecord]] = {}
        for record in result.prompts:
            by_task.setdefault(task_of(record.row_id), []).append(record)
        result.summary["tasks"] = {label: summarize(records, settings.ks, seed=settings.seed)
                                   for label, records in by_task.items()}
    result.status = "complete"
    if out_path is not None:
        save_result(result, out_path)
    return result


def _evaluate_batch(engine: Engine, task: Any, rows: list[TaskRow], settings: EvalSettings,
                    scorer: Scorer, sampling_params: Callable[..., Any]) -> list[PromptRecord]:
    sampled = engine.generate(rows, settings.n, sampling_params(
        max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
        top_p=settings.top_p))
    greedy: list[Group | None] = [None] * len(rows)
    if settings.greedy:
        greedy = list(engine.generate(rows, 1, sampling_params(
            max_new_tokens=settings.max_new_tokens, greedy=True)))
    scorer(sampled + [g for g in greedy if g is not None])
    return [_record(task, group, greedy_group) for group, greedy_group in zip(sampled, greedy)]


def _record(task: Any, group: Group, greedy: Group | None) -> PromptRecord:
    scores: list[float | None] = []
    errors = 0
    for sample in group.samples:
        reward = _reward_of(sample)
        errors += reward.outcome == "infra_error"
        scores.append(reward.score)
    record = PromptRecord(
        row_id=group.row.row_id, scores=scores,
        answers=[answer_key(task, s.text) for s in group.samples],
        finish=[s.finish_reason for s in group.samples],
        lengths=[len(s.completion_ids) for s in group.samples], errors=errors,
        correct=[is_correct(s.reward) for s in group.samples],
        tool_calls=_tool_calls(group.samples))
    if greedy is not None:
        verdict = _reward_of(greedy.samples[0])
        record.greedy_correct = None if verdict.score is None else is_correct(verdict)
        record.greedy_text = greedy.samples[0].text
        calls = _tool_calls(greedy.samples)
        record.greedy_tool_calls = None if calls is None else calls[0]
    return record


def _tool_calls(samples: list[Any]) -> list[int] | None:
    """Each episode's tool calls; None when the samples are single-turn."""
    if any(s.episode is None for s in samples):
        return None
    return [s.episode.tool_calls for s in samples]


def _reward_of(sample: Any) -> Any:
    if sample.reward is None:
        raise RuntimeError(f"the scorer left a sample of {sample.row.row_id!r} without a reward")
    return sample.reward


def _progress_bar(total: int, done: int, label: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="prompt", desc=f"eval {Path(label).name}",
                dynamic_ncols=True)


def flat_metrics(result: EvalResult, prefix: str = "eval/") -> dict[str, float]:
    """Headline numbers as flat keys for metrics.jsonl (``eval/pass@4``, ``eval/maj@4`` ...)."""
    s = result.summary
    out = {f"{prefix}{name}@{k}": entry["value"] for name in ("pass", "maj")
           for k, entry in s.get(f"{name}@k", {}).items()}
    for key in ("mean_accuracy", "greedy_accuracy", "mean_score", "tool_use", "greedy_tool_use"):
        if key in s:
            out[prefix + key] = s[key]["value"]
    return out
