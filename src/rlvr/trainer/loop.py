"""The RL loop: a short sequence of named stages (DESIGN.md "One RL step").

    sample prompts -> rollout -> reward -> advantages / train batch -> update -> log

No variant names appear here: every algorithm choice was resolved by ``build_algorithm``.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rlvr.configs.run import RunConfig
from rlvr.eval.periodic import due, greedy_eval, periodic_eval
from rlvr.launch.checks import preflight
from rlvr.models.lora import is_lora, merged_copy
from rlvr.rewards.pipeline import score_groups
from rlvr.rollout.oversample import keep_groups, sampled_group_size
from rlvr.rollout.temperatures import rollout_params
from rlvr.runs.session import RunSession, refuse_fresh_over_checkpoints
from rlvr.trainer.banner import eta_line, final_summary, start_banner
from rlvr.trainer.batch import build_train_batch
from rlvr.trainer.curriculum import step_budget
from rlvr.trainer.guards import mask_invalid_rewards
from rlvr.trainer.hints import help_groups
from rlvr.trainer.metrics import StageTimer, rollout_metrics
from rlvr.trainer.parallel import init_dist
from rlvr.trainer.reference import reference_scorer
from rlvr.trainer.sft_mix import sft_mix_term
from rlvr.trainer.teacher import teacher_scorer
from rlvr.trainer.trainer import Trainer, setup
from rlvr.trainer.update import step_settings, update
from rlvr.trainer.wall_budget import stop_line
from rlvr.types import TrainBatch


def prompt_seeds(seed: int, step: int, start: int, count: int) -> list[int]:
    """The sampling seed of each prompt of a step, from its position in the step's batch (not
    from the process), so a step's samples are the same for any world size."""
    return [((seed * 1_000_003 + step) * 1_048_576 + start + i) % 2**63 for i in range(count)]


def rollout(t: Trainer, num_prompts: int, step: int, start: int = 0) -> list:
    """Sample ``num_prompts`` prompts (every rank draws the same) and this rank's share of their
    groups of completions, each prompt under its own seed; scoring starts as soon as each group
    is decoded."""
    cfg = t.cfg.rollout
    size = sampled_group_size(cfg)  # G, or factor * G when oversampling
    budget = step_budget(t.prompts, cfg.max_new_tokens)  # a curriculum stage's, or the config's
    params = rollout_params(budget, cfg.temperature, cfg.top_p, cfg.temperatures,
                            cfg.group_size, cfg.temperature_schedule, size // cfg.group_size)
    submit = t.rewards.submit_all if t.rewards is not None else None  # overlap scoring
    rows = t.dist.shard(t.prompts.next(num_prompts))
    seeds = t.dist.shard(prompt_seeds(t.cfg.seed, step, start, num_prompts))
    with t.dist.gathered():  # fsdp2: each rank decodes alone, with the full weights
        return t.engine.generate(rows, size, params, on_groups=submit, seeds=seeds)


def sample_more(t: Trainer, num_prompts: int, counts, step: int, drawn: list[int]) -> list:
    """Rollout and reward for more prompts (dynamic sampling); outcome counts accumulate."""
    groups = rollout(t, num_prompts, step, start=drawn[0])
    drawn[0] += num_prompts
    counts.update(score_groups(groups, t.task, t.rewards))
    return keep_groups(groups, t.cfg.rollout)[0]


def whole_batch(t: Trainer, groups: list, counts) -> tuple[list, Counter]:
    """Every rank's groups and summed outcome counts (metrics and samples of the whole step)."""
    if not t.dist.active:
        return groups, counts
    parts = t.dist.gather_objects((groups, dict(counts)))
    total: Counter = Counter()
    for _, part in parts:
        total.update(part)
    return [g for part, _ in parts for g in part], total


def seed_step(t: Trainer, step: int) -> None:
    """Sampling is reproducible per step (the first rollout of a step reseeds torch)."""
    torch.manual_seed(t.cfg.seed * 100_003 + step)


def score(t: Trainer, groups: list, step: int) -> tuple[Counter, dict[str, float]]:
    """The reward stage: outcome counts of this rank's ``groups`` and the whole step's rollout
    and prompt-selection metrics (``reward/mean``, ``accuracy``...)."""
    counts = score_groups(groups, t.task, t.rewards)
    counts.update(mask_invalid_rewards(groups))  # nan / inf scores never reach advantages
    all_groups, all_counts = whole_batch(t, groups, counts)
    # every rank's groups: the selection's pass-rate history stays the same on all ranks
    select_metrics = t.prompts.observe(all_groups, step)
    return counts, {**rollout_metrics(all_groups, all_counts), **select_metrics}


def train_batch(t: Trainer, groups: list, step: int) -> tuple[TrainBatch, dict[str, float]]:
    """The advantage stage: the padded batch of ``groups`` with reference logprobs (KL), teacher
    logprobs (distillation) and advantages over every rank's groups; returns it and its
    metrics."""
    ref_scorer, ref_metrics = reference_scorer(t.reference, step, t.optimizer,
                                               step_settings(t.cfg))
    batch, batch_metrics = build_train_batch(groups, t.algo, t.policy.tokenizer.pad_token_id,
                                             ref_scorer, t.dist,
                                             teacher_scorer(t.teacher, step_settings(t.cfg)))
    return batch, {**batch_metrics, **ref_metrics}


def train_step(t: Trainer, step: int) -> dict[str, float]:
    """One RL step as named stages, on the functions ``rlvr.Session`` calls; returns the step's
    metrics."""
    cfg, timer = t.cfg, StageTimer()
    seed_step(t, step)
    drawn = [cfg.rollout.prompts_per_step]  # prompts drawn this step: the next seed position
    with timer.stage("rollout"):
        groups = rollout(t, cfg.rollout.prompts_per_step, step)
    with timer.stage("reward"):
        counts, sampled = score(t, groups, step)
        groups, kept = keep_groups(groups, cfg.rollout)  # oversampling: G of each group
        kept = dict(zip(kept, (v / t.dist.world for v in t.dist.sum_floats(list(kept.values())))))
    with timer.stage("hints"):  # algorithm.hints / expert_traces (a no-op when both are off)
        groups, help_metrics = help_groups(t, groups, step)
    with timer.stage("group_filter"):
        groups, filter_metrics = t.algo.fill_groups(groups, sample_more=lambda n: help_groups(
            t, sample_more(t, n, counts, step, drawn), step)[0])
    with timer.stage("advantages"):
        batch, batch_metrics = train_batch(t, groups, step)
    with timer.stage("update"):
        update_metrics = update(t.policy, t.optimizer, t.scheduler, batch, t.algo,
                                step_settings(cfg), t.generator, t.dist,
                                extra_backward=sft_mix_term(t, groups))  # None: off
    with timer.stage("weight_sync"):
        sync_metrics = sync_engine(t)
    # the whole step's groups after filtering, for the samples file and the token count
    step_groups = whole_batch(t, groups, Counter())[0] if t.dist.active else groups
    if t.dist.main and (step % cfg.log.samples_every == 0 or step == cfg.steps - 1):
        t.logger.log_samples(step, step_groups)
    seconds = dict(zip(timer.seconds, (v / t.dist.world for v in t.dist.sum_floats(
        list(timer.seconds.values())))))  # each stage's mean over ranks
    metrics = {**sampled, **kept, **help_metrics, **filter_metrics, **batch_metrics,
               **update_metrics, **sync_metrics, **seconds}
    tokens = sum(len(s.completion_ids) for g in step_groups for s in g.samples)
    metrics["throughput/tokens_per_s"] = tokens / max(sum(seconds.values()), 1e-9)
    return metrics


def policy_version(t: Trainer) -> int:
    """Optimizer steps taken so far (the scheduler steps once per optimizer step, and a resume
    restores it): the version of the weights samples are drawn from."""
    return int(t.scheduler.last_epoch)


def sync_engine(t: Trainer) -> dict[str, float]:
    """Hand the engine the weights of the current policy version (``sync/bytes``, and the
    version as ``policy/version``)."""
    version = policy_version(t)
    out = t.engine.sync_weights(t.weights() if t.weights is not None else (), version)
    return {**out, "policy/version": float(version)}


def on_rank0(t: Trainer, run, default):
    """``run()`` on rank 0 with the full weights (the others wait for it; evaluations are not
    sharded yet); the same result on every rank."""
    if not t.dist.active:
        return run()
    with t.dist.gathered():
        result = run() if t.dist.main else default
        return t.dist.gather_objects(result)[0]


def periodic_evaluation(t: Trainer, step: int) -> dict[str, float]:
    """pass@k / maj@k on the held-out split when ``eval.periodic`` says this step is due."""
    periodic = t.cfg.eval.periodic if t.cfg.eval is not None else None
    if not due(periodic, step, t.cfg.steps):
        return {}
    return on_rank0(t, lambda: periodic_eval(t.engine, t.task, periodic, step, t.run_dir,
                                             t.cfg.model.name, t.cfg.rollout.max_new_tokens,
                                             scorer=_scorer(t)), {})


def _scorer(t: Trainer):
    """Evaluations score with the run's reward pipeline (its workers and terms)."""
    return None if t.rewards is None else (lambda groups: score_groups(groups, t.task, t.rewards))


def evaluate(t: Trainer, label: str):
    """Greedy held-out evaluation before / after training: RUN_DIR/eval_<label>.json."""
    if t.cfg.eval is None or not getattr(t.cfg.eval, label):
        return None
    return greedy_evaluation(t, label)


def greedy_evaluation(t: Trainer, label: str):
    """Greedy accuracy on the held-out rows, written to RUN_DIR/eval_<label>.json."""
    max_new = (t.cfg.eval.max_new_tokens if t.cfg.eval is not None else None) \
        or t.cfg.rollout.max_new_tokens
    return on_rank0(t, lambda: greedy_eval(t.engine, t.task, t.task.eval_rows(), max_new,
                                           t.run_dir / f"eval_{label}.json",
                                           f"{t.cfg.model.name}@{label}", _scorer(t),
                                           seed=t.cfg.seed,
                                           prompts_per_batch=_eval_batch(t)), None)


def _eval_batch(t: Trainer) -> int:
    return t.cfg.eval.prompts_per_batch if t.cfg.eval is not None else 8


def save_final(t: Trainer) -> Path:
    """The trained policy in Hugging Face format (``from_pretrained`` loads it); LoRA adapters
    are merged into a copy of the weights, so the directory is a plain model. Rank 0 writes it
    (fsdp2: the weights gathered first, a collective)."""
    out = t.run_dir / "final"
    full = None
    if t.dist.sharded:
        from rlvr.trainer.parallel_state import full_model_state, hf_tied_removed

        full = hf_tied_removed(t.policy.model, full_model_state(t.policy.model,
                                                                 drop_aliases=False))
    if t.dist.main:
        model = merged_copy(t.policy.model) if is_lora(t.policy.model) else t.policy.model
        model.save_pretrained(out, safe_serialization=True, state_dict=full)
        t.policy.tokenizer.save_pretrained(out)
    t.dist.barrier()
    return out


def train(cfg: RunConfig, resume: bool = False) -> dict[str, Any]:
    """Run training from a validated config; returns a summary. ``resume`` continues the run in
    ``cfg.log.run_dir`` from its newest checkpoint that verifies (docs/reliability.md)."""
    started = time.perf_counter()
    preflight(cfg)  # world size and backend, before any model loads
    if not resume:
        refuse_fresh_over_checkpoints(Path(cfg.log.run_dir))
    dist = init_dist(cfg)
    try:
        t = setup(cfg, resume, dist)
    except BaseException:
        dist.close()
        raise
    session = None
    try:
        session = RunSession(t, resume)
        return _train(t, session, started)
    finally:
        close_trainer(t, session)


def close_trainer(t: Trainer, session: RunSession | None) -> None:
    """Release what ``setup`` and ``RunSession`` opened, also when a run stops early."""
    if session is not None:
        session.close()
    t.logger.close()  # already closed when the run finished: a no-op then
    t.engine.close()
    if t.rewards is not None:
        t.rewards.close()
    t.dist.close()


def _train(t: Trainer, session: RunSession, started: float) -> dict[str, Any]:
    cfg, start = t.cfg, session.start_step
    if t.dist.main:
        print(start_banner(cfg, t.policy, t.run_dir, start), flush=True)
    sync_engine(t)  # a resume restored the weights after the engine was built
    eval_started = time.perf_counter()
    before = evaluate(t, "before") if start == 0 else None
    # The after-training evaluation decodes the same rows with the same settings as this one.
    after_eval_s = time.perf_counter() - eval_started \
        if before is not None and cfg.eval is not None and cfg.eval.after else 0.0
    bar = tqdm(range(start, cfg.steps), desc="rlvr train",
               disable=not cfg.log.progress or not t.dist.main,
               unit="step", initial=start, total=cfg.steps)
    session.wall.start()
    stopped = None  # the wall budget's line when it ends the run early
    for step in bar:
        if step == start and session.out_of_time():  # a resume whose budget was already spent
            stopped = stop_line(session.wall, step, cfg.steps)
            break
        step_started = time.perf_counter()
        metrics = train_step(t, step)
        if step == start and cfg.steps - step > 1 and t.dist.main:  # ETA from a measured step
            bar.write(eta_line(time.perf_counter() - step_started, cfg.steps - step - 1,
                               after_eval_s))
        metrics.update(periodic_evaluation(t, step))
        session.observe(step, metrics)  # non-finite counters
        t.logger.log(step, metrics)
        out_of_time = session.end_step(step)  # guard, checkpoint when due, SIGTERM -> Preempted
        bar.set_postfix(reward=f"{metrics['reward/mean']:.3f}", acc=f"{metrics['accuracy']:.3f}",
                        len=f"{metrics['completion/len_mean']:.1f}",
                        step_s=f"{sum(v for k, v in metrics.items() if k.startswith('time/')):.1f}")
        if out_of_time:
            stopped = stop_line(session.wall, step + 1, cfg.steps)
            break
    bar.close()
    if stopped is not None and t.dist.main:
        print(f"rlvr: {stopped}", flush=True)
    after = evaluate(t, "after")
    final_dir = save_final(t)
    t.logger.close()
    if t.dist.main:
        summary = final_summary(t.run_dir, time.perf_counter() - started, stopped)
        (t.run_dir / "eval_summary.txt").write_text(summary + "\n")
        print(summary)
    return {"run_dir": str(t.run_dir), "final_dir": str(final_dir), "before": before,
            "after": after, "wall_s": time.perf_counter() - started, "rank": t.dist.rank,
            "stopped": stopped}
