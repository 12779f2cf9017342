"""The help stage between reward and group filter: hints for all-fail groups and LUFFY expert
traces (docs/algorithms.md). ``hint_groups`` and ``with_expert_traces`` take the engine and the
verifier as callables; ``help_groups(t, groups, step)`` wires them to a ``Trainer``."""

from __future__ import annotations

import zlib
from typing import Any, Callable

from rlvr.algorithms.expert import expert_counts, expert_metrics, expert_sample
from rlvr.algorithms.hints import (all_fail, hint_counts, hint_metrics, hinted_row, tiers,
                                   under_plain_prompt)
from rlvr.configs.hints import HintsConfig
from rlvr.algorithms.sft import has_reference
from rlvr.types import Group, TaskRow

Generate = Callable[[list[TaskRow], int], list[Group]]  # (hinted rows, tier) -> groups
Score = Callable[[list[Group]], Any]  # sets sample.reward on every sample


def hint_groups(groups: list[Group], cfg: HintsConfig, generate: Generate, score: Score,
                total: Callable[[int], float] = float) -> tuple[list[Group], list[float]]:
    """Each all-fail group re-sampled under tier 1, 2, ... while still all-fail, up to its last
    tier; the final tier's group replaces it, under the hint-free prompt. ``total(n)`` sums a
    count over ranks, so every rank runs the same tiers (decoding may be collective).
    Returns the groups and ``hint_counts``."""
    pending, no_source = [], 0
    for i, group in enumerate(groups):
        if all_fail(group):
            if tiers(group.row, cfg):
                pending.append(i)
            else:
                no_source += 1  # nothing to hint with: counted, trained as sampled
    hinted: dict[int, Group] = {}
    for level in range(1, cfg.levels + 1):
        pending = [i for i in pending if tiers(groups[i].row, cfg) >= level]
        if not total(len(pending)):
            break
        drawn = generate([hinted_row(groups[i].row, level, cfg) for i in pending], level)
        for i, group in zip(pending, drawn, strict=True):
            plain = groups[i]
            hinted[i] = under_plain_prompt(group, plain.row, plain.samples[0].prompt_ids, level)
        score([hinted[i] for i in pending])
        pending = [i for i in pending if all_fail(hinted[i])]
    out = [hinted.get(i, group) for i, group in enumerate(groups)]
    return out, hint_counts(list(hinted.values()), len(groups), no_source)


def with_expert_traces(groups: list[Group], make_trace: Callable[[Group], Any], per_group: int,
                       score: Score) -> list[Group]:
    """Each group with ``per_group`` expert traces appended (scored as a group of their own, so
    group reward terms see only the traces); the policy's samples are untouched. A row with a
    blank reference gets no trace (counted by ``expert_counts`` as ``expert/no_reference``)."""
    with_ref = [i for i, g in enumerate(groups) if has_reference(g.row)]
    traces = {i: Group(row=groups[i].row, samples=[make_trace(groups[i]) for _ in range(per_group)])
              for i in with_ref}
    if traces:
        score(list(traces.values()))
    return [Group(row=g.row, samples=g.samples + (traces[i].samples if i in traces else []))
            for i, g in enumerate(groups)]


def hint_seed(seed: int, step: int, level: int, row_id: str) -> int:
    """The sampling seed of a hinted group: from the run seed, step, tier and row id (not the
    rank's position), so it does not depend on the world size."""
    return (((seed * 1_000_003 + step) * 31 + level) * 4_294_967_311
            + zlib.crc32(row_id.encode())) % 2**63


def _generate(t: Any, step: int, rows: list[TaskRow], level: int) -> list[Group]:
    from rlvr.rollout.temperatures import rollout_params
    from rlvr.trainer.curriculum import step_budget

    cfg = t.cfg.rollout
    params = rollout_params(step_budget(t.prompts, cfg.max_new_tokens), cfg.temperature, cfg.top_p, cfg.temperatures,
                            cfg.group_size)
    seeds = [hint_seed(t.cfg.seed, step, level, row.row_id) for row in rows]
    with t.dist.gathered():  # every rank, also one with no rows: fsdp2 gathers collectively
        return t.engine.generate(rows, cfg.group_size, params, seeds=seeds) if rows else []


def _score(t: Any, groups: list[Group]) -> None:
    from rlvr.rewards.pipeline import score_groups
    from rlvr.trainer.guards import mask_invalid_rewards

    score_groups(groups, t.task, t.rewards)
    mask_invalid_rewards(groups)  # nan / inf scores never reach advantages


def _trace_maker(t: Any) -> Callable[[Group], Any]:
    from rlvr.models.loader import stop_token_ids

    cfg, stops = t.cfg, stop_token_ids(t.policy)

    def make(group: Group):
        # rollout.temperatures: every row then carries its own; the trace takes the run's
        per_row = any(s.temperature is not None for s in group.samples)
        return expert_sample(group.row, group.samples[0].prompt_ids, t.policy.tokenizer,
                             cfg.algorithm.expert_traces, stops, cfg.rollout.max_new_tokens,
                             int(t.scheduler.last_epoch),
                             cfg.rollout.temperature if per_row else None)
    return make


def help_groups(t: Any, groups: list[Group], step: int) -> tuple[list[Group], dict[str, float]]:
    """Hints then expert traces, as ``cfg.algorithm`` asks (a no-op when both are off);
    returns the groups and the whole batch's ``hints/*`` and ``expert/*`` metrics."""
    algo, metrics = t.cfg.algorithm, {}
    if algo.hints is not None:
        groups, counts = hint_groups(
            groups, algo.hints, generate=lambda rows, level: _generate(t, step, rows, level),
            score=lambda gs: _score(t, gs), total=lambda n: t.dist.sum_floats([float(n)])[0])
        metrics.update(hint_metrics(t.dist.sum_floats(counts)))
    if algo.expert_traces is not None:
        groups = with_expert_traces(groups, _trace_maker(t), algo.expert_traces.per_group,
                                    lambda gs: _score(t, gs))
        metrics.update(expert_metrics(t.dist.sum_floats(expert_counts(groups))))
    return groups, metrics
