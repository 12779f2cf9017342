"""Evaluation during training, on the held-out split, always through ``evaluate`` (the path and
file format of `rlvr eval`): periodic pass@k / maj@k, and the greedy evaluation before and after.

The loop calls ``due(cfg, step, num_steps)`` after each step and, when it is true,
``periodic_eval(...)``. That writes ``RUN_DIR/evals/step_<step>.json`` (the same format as
`rlvr eval`, so `rlvr compare` and `rlvr report` read it) and returns flat ``eval/...`` metrics
for metrics.jsonl. Every evaluation uses the same prompts and the same seed, so the numbers of
two steps differ by the change of the policy, not by a fresh draw of prompts or random streams
(common random numbers).

``greedy_eval`` writes ``RUN_DIR/eval_before.json`` / ``eval_after.json``: one greedy completion
per prompt (greedy accuracy) beside one sampled completion (pass@1 at temperature 1; a results
file needs n >= 1). ``before_after_table`` prints the two side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlvr.configs.eval import EvalSettings, PeriodicEvalConfig
from rlvr.eval.evaluate import Engine, Scorer, evaluate, flat_metrics
from rlvr.eval.results import EvalResult
from rlvr.types import TaskRow


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


def greedy_eval(engine: Engine, task: Any, rows: list[TaskRow], max_new_tokens: int,
                out_path: str | Path, model_name: str, scorer: Scorer | None = None,
                seed: int = 0, prompts_per_batch: int = 8) -> EvalResult:
    """Greedy accuracy on ``rows`` (with one sampled completion each), written to ``out_path``."""
    Path(out_path).unlink(missing_ok=True)  # before / after of a fresh run start afresh
    settings = EvalSettings(n=1, max_new_tokens=max_new_tokens, seed=seed, greedy=True,
                            prompts_per_batch=prompts_per_batch)
    return evaluate(engine, task, rows, settings, model_name, out_path, progress=False,
                    scorer=scorer)


_TABLE_ROWS = (("greedy_accuracy", "greedy accuracy"), ("mean_accuracy", "pass@1 (sampled)"),
               ("mean_score", "mean reward (sampled)"))
_EPISODE_ROWS = (("greedy_tool_use", "tool use (greedy)"), ("tool_use", "tool use (sampled)"))
"""Shown only when an evaluation has them (multi-turn environments)."""


def before_after_table(before: EvalResult | None, after: EvalResult | None) -> str:
    """A small before / after / change table of the headline numbers of two evaluations."""
    lines = [f"{'held-out (greedy)':<24}{'before':>10}{'after':>10}{'change':>10}"]
    present = [(k, n) for k, n in _EPISODE_ROWS
               if any(r is not None and k in r.summary for r in (before, after))]
    for key, name in _TABLE_ROWS + tuple(present):
        b, a = (r.summary[key]["value"] if r is not None and key in r.summary else None
                for r in (before, after))
        cells = [f"{v:>10.3f}" if v is not None else f"{'-':>10}" for v in (b, a)]
        delta = f"{a - b:>+10.3f}" if a is not None and b is not None else f"{'-':>10}"
        lines.append(f"{name:<24}{cells[0]}{cells[1]}{delta}")
    n = (after or before).summary.get("num_prompts", 0) if (after or before) else 0
    lines.append(f"({n} held-out prompts)")
    return "\n".join(lines)
