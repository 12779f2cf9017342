"""Greedy held-out evaluation before and after training, with the training verifier."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean
from typing import Any

from rlvr.rewards.pipeline import score_groups
from rlvr.rollout.hf import HFEngine, SamplingParams
from rlvr.types import TaskRow


def greedy_eval(engine: HFEngine, task: Any, rows: list[TaskRow], max_new_tokens: int,
                out_path: Path, label: str, pipeline: Any = None) -> dict[str, Any]:
    """Greedy accuracy (share of rows scoring 1) and mean reward; per-row results saved."""
    groups = engine.generate(rows, 1, SamplingParams(max_new_tokens, greedy=True))
    score_groups(groups, task, pipeline)
    per_row = [{"row_id": g.row.row_id, "prompt": g.row.prompt, "reference": g.row.reference,
                "completion": g.samples[0].text, "score": g.samples[0].reward.score,
                "verdict": g.samples[0].reward.verdict} for g in groups]
    scores = [r["score"] or 0.0 for r in per_row]
    result = {"label": label, "num_prompts": len(rows), "max_new_tokens": max_new_tokens,
              "greedy_accuracy": mean(float(s >= 1.0) for s in scores),
              "mean_reward": mean(scores), "rows": per_row}
    out_path.write_text(json.dumps(result, indent=1))
    return result


def format_eval_table(before: dict | None, after: dict | None) -> str:
    """A small before/after table of held-out greedy accuracy and mean reward."""
    lines = [f"{'held-out (greedy)':<22}{'before':>10}{'after':>10}{'change':>10}"]
    for key, name in (("greedy_accuracy", "accuracy"), ("mean_reward", "mean reward")):
        b = before[key] if before else None
        a = after[key] if after else None
        cells = [f"{v:>10.3f}" if v is not None else f"{'-':>10}" for v in (b, a)]
        delta = f"{a - b:>+10.3f}" if a is not None and b is not None else f"{'-':>10}"
        lines.append(f"{name:<22}{cells[0]}{cells[1]}{delta}")
    n = (after or before or {}).get("num_prompts", 0)
    lines.append(f"({n} held-out prompts)")
    return "\n".join(lines)
