"""``rlvr sft``: supervised fine-tuning on the train rows' references (a cold start before RL).

The run is built by the RL trainer's ``setup`` (model, LoRA, engine for the held-out greedy
evaluation, optimizer, trackers) and keeps its run directory layout (config.yaml, metrics.jsonl,
ckpt/, final/, eval_before.json / eval_after.json, periodic evaluations). Each step is one
optimizer step over ``sft.batch_size`` demonstrations:

    shuffled demonstrations -> SFT backward (micro-batched) -> optimizer step -> log
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rlvr.config import dump_config
from rlvr.configs.base import ConfigError
from rlvr.configs.run import RunConfig
from rlvr.configs.sft import SftConfig
from rlvr.data import quarantine
from rlvr.launch.checks import preflight
from rlvr.runs.session import RunSession, refuse_fresh_over_checkpoints
from rlvr.trainer.banner import final_summary, start_banner
from rlvr.trainer.demos import (NO_REFERENCE, Demonstrations, heldout_sft_loss,  # noqa: F401
                                sft_backward)
from rlvr.trainer.loop import (close_trainer, evaluate, periodic_evaluation, save_final,
                               sync_engine)
from rlvr.trainer.parallel import init_dist
from rlvr.trainer.trainer import Trainer, setup
from rlvr.trainer.update import optim_step
from rlvr.trainer.wall_budget import stop_line
from rlvr.types import TaskRow

def sft(cfg: RunConfig) -> dict[str, Any]:
    """Run SFT from a validated config; returns a summary like ``train``'s."""
    started = time.perf_counter()
    if cfg.launcher.nproc > 1 or os.environ.get("WORLD_SIZE", "1") != "1":
        raise ConfigError(f"rlvr sft runs in one process (launcher.nproc={cfg.launcher.nproc}, "
                          f"WORLD_SIZE={os.environ.get('WORLD_SIZE', '1')}); set launcher.nproc=1")
    preflight(cfg)
    refuse_fresh_over_checkpoints(Path(cfg.log.run_dir))
    t = setup(cfg, False, init_dist(cfg))
    session = None
    try:
        settings = sft_settings(t.cfg)
        demos = Demonstrations.of(t.policy, t.cfg, settings.max_target_tokens, t.engine,
                                  settings.turns)
        rows = usable_rows(t, demos)
        t.cfg = sft_run_config(t.cfg, len(rows))  # steps = epochs x batches per epoch
        (t.run_dir / "config.yaml").write_text(dump_config(t.cfg))
        session = RunSession(t, False)
        return _sft(t, session, demos, rows, started)
    finally:
        close_trainer(t, session)


def sft_command(cfg: RunConfig) -> int:
    """``rlvr sft``: the run, with ``rlvr train``'s exit codes (trainer/outcomes.py)."""
    from rlvr.data.quarantine import DatasetRejected
    from rlvr.runs.checkpoint import CheckpointError
    from rlvr.runs.session import ResumeRefused
    from rlvr.trainer.guards import NonFiniteAbort
    from rlvr.trainer.outcomes import EXIT_ABORTED

    try:
        summary = sft(cfg)
    except (ResumeRefused, DatasetRejected) as err:
        raise ConfigError(str(err)) from None
    except (NonFiniteAbort, CheckpointError, MemoryError, torch.OutOfMemoryError) as err:
        print(f"rlvr: aborted: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_ABORTED
    print(f"final model (Hugging Face format): {summary['final_dir']}")
    return 0


def sft_settings(cfg: RunConfig) -> SftConfig:
    return cfg.sft if cfg.sft is not None else SftConfig()


def sft_run_config(cfg: RunConfig, num_rows: int) -> RunConfig:
    """``cfg`` with ``sft`` filled in and ``steps`` = epochs x ceil(rows / batch_size)."""
    settings = sft_settings(cfg)
    steps = settings.epochs * math.ceil(num_rows / settings.batch_size)
    return cfg.model_copy(update={"sft": settings, "steps": steps})


def usable_rows(t: Trainer, demos: Demonstrations) -> list[TaskRow]:
    """The train rows that make a demonstration; the others join RUN_DIR/quarantine.json with
    the reason, counted."""
    rows = t.task.train_rows()
    problems = [demos.problem(r) for r in rows]
    kept = [r for r, p in zip(rows, problems) if p is None]
    dropped = [(i + 1, r, p) for i, (r, p) in enumerate(zip(rows, problems)) if p is not None]
    if dropped:
        source = str(getattr(t.cfg.task, "path", None) or t.task.name)
        add_to_quarantine(t.run_dir / quarantine.REPORT_NAME, source, len(rows), dropped)
        print(f"rlvr: warning: {len(dropped)} train rows without a demonstration quarantined, "
              f"e.g. row {dropped[0][0]}: {dropped[0][2]} "
              f"(see {t.run_dir / quarantine.REPORT_NAME})", flush=True)
    if not kept:
        raise ConfigError(f"rlvr sft: none of the {len(rows)} train rows of {t.task.name} makes "
                          f"a demonstration to fine-tune on (row 1: {problems[0]})")
    return kept


def add_to_quarantine(path: Path, source: str, total: int,
                      dropped: list[tuple[int, TaskRow, str]]) -> None:
    """Append ``dropped`` (train-row position, row, reason) to the report
    ``build_checked_task`` wrote."""
    report = json.loads(path.read_text()) if path.is_file() else {"files": {}, "rows": []}
    counts = report["files"].setdefault(source, {"rows": total, "quarantined": 0})
    counts["quarantined"] += len(dropped)
    report["rows"] += [{"file": source, "row": n, "row_id": r.row_id, "reason": why}
                       for n, r, why in dropped]
    report["quarantined_rows"] = len(report["rows"])
    path.write_text(json.dumps(report, indent=1) + "\n")


def batches(rows: list[TaskRow], settings: SftConfig, epoch: int, seed: int) -> list[list[TaskRow]]:
    """The optimizer batches of one epoch: the rows in a shuffled order of (seed, epoch)."""
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(
        seed * 1_000_003 + epoch)).tolist()
    return [[rows[i] for i in order[s:s + settings.batch_size]]
            for s in range(0, len(rows), settings.batch_size)]


def sft_step(t: Trainer, demos: Demonstrations, rows: list[TaskRow]) -> dict[str, float]:
    """One optimizer step on the demonstrations of ``rows``."""
    started = time.perf_counter()
    t.policy.model.train()
    loss, tokens = sft_backward(t.policy, demos.batch(rows), 1.0, t.cfg.optim.micro_batch_size,
                                t.dist)
    metrics = optim_step(t.policy, t.optimizer, t.scheduler, t.cfg.optim.max_grad_norm, t.dist)
    seconds = time.perf_counter() - started
    return {**metrics, "loss": loss, "update/sft_loss": loss, "sft/tokens": float(tokens),
            "time/update": seconds, "sft/tokens_per_s": tokens / max(seconds, 1e-9)}


def _sft(t: Trainer, session: RunSession, demos: Demonstrations, rows: list[TaskRow],
         started: float) -> dict[str, Any]:
    cfg, settings = t.cfg, sft_settings(t.cfg)
    banner = [line for line in start_banner(cfg, t.policy, t.run_dir).splitlines()
              if "per step" not in line]  # the rollout's shape: not used here
    print("\n".join(banner).replace("rlvr train", "rlvr sft", 1)
          + f"\n  sft        {len(rows)} demonstrations, {settings.epochs} epoch(s) x "
          f"{settings.batch_size} per step", flush=True)
    sync_engine(t)
    before = evaluate(t, "before")

    def heldout() -> float | None:
        return heldout_sft_loss(t.policy, demos, t.task.eval_rows(), cfg.optim.micro_batch_size)

    losses = {"sft_loss_before": heldout(), "sft_loss_after": None}
    plan = [b for epoch in range(settings.epochs) for b in batches(rows, settings, epoch, cfg.seed)]
    session.wall.start()
    stopped = None  # the wall budget's line when max_wall_minutes ends the run early
    for step in tqdm(range(cfg.steps), desc="rlvr sft", disable=not cfg.log.progress,
                     unit="step"):
        metrics = {**sft_step(t, demos, plan[step]), **sync_engine(t)}  # engine: for evals
        metrics["sft/epoch"] = float(step * settings.epochs // cfg.steps)
        metrics.update(periodic_evaluation(t, step))
        if step == 0 and losses["sft_loss_before"] is not None:
            metrics["eval/sft_loss_before"] = losses["sft_loss_before"]
        if step == cfg.steps - 1:  # the held-out loss after the last update
            losses["sft_loss_after"] = heldout()
            if losses["sft_loss_after"] is not None:
                metrics["eval/sft_loss"] = losses["sft_loss_after"]
        session.observe(step, metrics)
        t.logger.log(step, metrics)
        if session.end_step(step):
            stopped = stop_line(session.wall, step + 1, cfg.steps)
            print(f"rlvr: {stopped}", flush=True)
            losses["sft_loss_after"] = heldout()
            break
    (t.run_dir / "eval_sft.json").write_text(json.dumps(losses, indent=1) + "\n")
    return finish(t, started, before, losses, stopped)


def finish(t: Trainer, started: float, before, losses: dict,
           stopped: str | None = None) -> dict[str, Any]:
    """After-training evaluation, the final model and the summary, as ``rlvr train`` ends."""
    after = evaluate(t, "after")
    final_dir = save_final(t)
    t.logger.close()
    summary = final_summary(t.run_dir, time.perf_counter() - started, stopped)
    (t.run_dir / "eval_summary.txt").write_text(summary + "\n")
    print(summary)
    return {"run_dir": str(t.run_dir), "final_dir": str(final_dir), "before": before,
            "after": after, **losses, "wall_s": time.perf_counter() - started, "rank": 0,
            "stopped": stopped}
