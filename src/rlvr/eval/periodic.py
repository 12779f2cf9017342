"""Periodic evaluation during training, on the held-out split.

The loop calls ``due(cfg, step, num_steps)`` after each step and, when it is true,
``periodic_eval(...)``. That writes ``RUN_DIR/evals/step_<step>.json`` (the same format as
`rlvr eval`, so `rlvr compare` and `rlvr report` read it) and returns flat ``eval/...`` metrics
for metrics.jsonl. Every evaluation uses the same prompts and the same seed, so the numbers of
two steps differ by the change of the policy, not by a fresh draw of prompts or random streams
(common random numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlvr.configs.eval import PeriodicEvalConfig
from rlvr.eval.evaluate import Engine, Scorer, evaluate, flat_metrics


def due(cfg: PeriodicEvalConfig | None, step: int, num_steps: int) -> bool:
    """True after every ``cfg.every``-th step (0-based ``step``) and after the last step."""
    if cfg is None:
        return False
    return (step + 1) % cfg.every == 0 or step == num_steps - 1


def periodic_eval(engine: Engine, task: Any, cfg: PeriodicEvalConfig, step: int,
                  run_dir: str | Path, model_name: str, default_max_new_tokens: int,
                  scorer: Scorer | None = None) -> dict[str, float]:
    """Evaluate the current policy; returns ``eval/pass@k``, ``eval/maj@k``, accuracies."""
    rows = task.eval_rows()
    rows = rows[:cfg.num_prompts] if cfg.num_prompts else rows
    out_path = Path(run_dir) / "evals" / f"step_{step + 1:06d}.json"
    out_path.unlink(missing_ok=True)  # a rerun of the same step starts afresh
    result = evaluate(engine, task, rows, cfg.settings(default_max_new_tokens),
                      f"{model_name}@step{step + 1}", out_path, progress=False, scorer=scorer)
    return flat_metrics(result)
