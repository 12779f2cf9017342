"""What ``rlvr train`` says at the start (model, device, precision, work per step, run directory),
after the first timed step (an estimate of the whole run) and at the end (the summary table,
read from the run directory whatever process wrote it, and the command that opens the report)."""

from __future__ import annotations

from pathlib import Path

import torch

from rlvr.configs.run import RunConfig
from rlvr.eval.periodic import before_after_table
from rlvr.eval.results import EvalResult, load_result
from rlvr.eval.rundir import read_jsonl
from rlvr.hardware import cpu_facts
from rlvr.models.loader import Policy


def device_text(policy: Policy) -> str:
    if policy.device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(policy.device)})"
    return "cpu"


def precision_text(policy: Policy) -> str:
    weights = str(next(policy.model.parameters()).dtype).removeprefix("torch.")
    autocast = policy.autocast_dtype
    return f"weights {weights}, " + (f"autocast {str(autocast).removeprefix('torch.')}"
                                     if autocast is not None else "no autocast")


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(all, trainable) parameters; tied weights are counted once."""
    unique = {id(p): p for p in model.parameters()}.values()
    return sum(p.numel() for p in unique), sum(p.numel() for p in unique if p.requires_grad)


def _count(n: int) -> str:
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.1f}{suffix}"
    return str(n)


def allocator_text() -> str:
    """What rlvr/memory.py applied at start (the CLI applies it; a library caller may not)."""
    from rlvr.memory import APPLIED

    if not APPLIED:
        return "default (RLVR_ALLOCATOR=default, not glibc, or not started from the CLI)"
    return "tuned: " + ", ".join(f"{k}={v}" for k, v in APPLIED.items())


def rollout_weights_text(cfg: RunConfig, policy: Policy) -> str:
    """How rollouts decode, when not the trained weights as they are ('auto' resolved for this
    machine, and said so)."""
    asked = getattr(cfg.rollout.engine, "weights", "full")
    if asked in ("auto", "onednn") and getattr(cfg.rollout.engine, "name", "hf") == "hf":
        from rlvr.rollout.hf import resolve_weights

        weights = resolve_weights(asked, policy.device, policy.autocast_dtype)
        how = {"onednn": "oneDNN-packed fp32 weights" if policy.autocast_dtype is None
               else "oneDNN-packed weights", "full": "the trained weights"}[weights]
        return f"; rollouts decode {how}" + (" (weights=auto for this CPU)" if asked == "auto"
                                             else "")
    return "" if asked == "full" else f"; rollouts decode {asked} weights"


def start_banner(cfg: RunConfig, policy: Policy, run_dir: Path, start_step: int = 0) -> str:
    total, trainable = count_parameters(policy.model)
    params = f"{_count(total)} parameters" + (
        f", {_count(trainable)} trainable (LoRA)" if trainable != total else "")
    r = cfg.rollout
    work = (f"{r.prompts_per_step} prompts x {r.group_size} samples x <= {r.max_new_tokens} "
            f"new tokens, {cfg.algorithm.epochs} epoch(s) x {cfg.algorithm.minibatches} "
            f"minibatch(es)")
    steps = f"{cfg.steps} steps" + (f" (resuming at step {start_step})" if start_step else "")
    lines = [f"rlvr train: {cfg.model.name} ({params})",
             f"  device     {device_text(policy)}",
             f"  cpu: {cpu_facts().line()}",
             f"  precision  {precision_text(policy)}{rollout_weights_text(cfg, policy)}",
             f"  allocator  {allocator_text()}",
             f"  per step   {work}",
             f"  run        {steps}, task {task_label(cfg)}, run directory {run_dir}"]
    return "\n".join(lines)


def task_label(cfg: RunConfig) -> str:
    task = cfg.task
    name = getattr(task, "name", None)
    return f"{task.kind}:{name}" if isinstance(name, str) else task.kind


def eta_line(step_seconds: float, steps_left: int, eval_seconds: float) -> str:
    """An estimate of the time left, from the first step's wall time, plus the final evaluation
    costed at what the evaluation before training took (0 when none ran in this process)."""
    train_s = step_seconds * steps_left
    total = _duration(train_s + eval_seconds)
    text = f"rlvr: first step took {step_seconds:.1f} s; about {total} left"
    if eval_seconds:
        text += f" ({_duration(train_s)} training + {_duration(eval_seconds)} final evaluation)"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _eval_file(run_dir: Path, label: str) -> EvalResult | None:
    path = run_dir / f"eval_{label}.json"
    if not path.is_file():
        return None
    try:
        return load_result(path)
    except ValueError:  # an older or foreign file: the table shows "-" for it
        return None


def final_summary(run_dir: Path, wall_s: float, stopped: str | None = None) -> str:
    """The end-of-run table, read from the run directory (so a resumed run shows the *before*
    evaluation an earlier process wrote), the time and throughput, why the run ended early
    (``stopped``, e.g. the wall budget) and how to open the report."""
    before, after = _eval_file(run_dir, "before"), _eval_file(run_dir, "after")
    lines = [before_after_table(before, after)] if before or after else []
    metrics_path = run_dir / "metrics.jsonl"
    rows = read_jsonl(metrics_path)[0] if metrics_path.is_file() else []
    step_s = sum(v for row in rows for k, v in row.items()
                 if k.startswith("time/") and isinstance(v, (int, float)))
    tokens = [row["throughput/tokens_per_s"] for row in rows if "throughput/tokens_per_s" in row]
    timing = f"wall time {_duration(wall_s)} (this process)"
    if rows:
        timing += f"; {len(rows)} steps logged, {_duration(step_s)} in steps"
    if tokens:
        timing += f", {sum(tokens) / len(tokens):.0f} sampled tokens/s"
    lines += [timing] + ([stopped] if stopped else []) + [f"report: rlvr report {run_dir}"]
    return "\n".join(lines)
