"""Read what a training run leaves in its directory (all files optional except the directory).

    config.yaml      the resolved config
    metrics.jsonl    one JSON object per step with flat keys (``reward/mean``, ``time/rollout`` ...)
    samples.jsonl    sampled completions with their rewards
    eval_*.json      evaluations before / after training (the `rlvr eval` format)
    evals/*.json     periodic evaluations during training (step_000010.json ...)

A JSON file there in another format is not an evaluation of this run and is left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlvr.eval.results import FORMAT, EvalResult


@dataclass
class RunData:
    run_dir: Path
    config_text: str | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    evals: dict[str, EvalResult] = field(default_factory=dict)
    skipped_lines: int = 0  # unparseable JSONL lines (a run killed mid-write leaves one)


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Rows of a JSONL file and the number of lines that were not JSON objects."""
    rows, bad = [], 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad += 1
    return rows, bad


def read_run(run_dir: str | Path) -> RunData:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory not found: {run_dir}")
    data = RunData(run_dir)
    if (run_dir / "config.yaml").is_file():
        data.config_text = (run_dir / "config.yaml").read_text()
    for name, target in (("metrics.jsonl", "metrics"), ("samples.jsonl", "samples")):
        if (run_dir / name).is_file():
            rows, bad = read_jsonl(run_dir / name)
            setattr(data, target, rows)
            data.skipped_lines += bad
    eval_files = sorted(run_dir.glob("eval_*.json")) + sorted(run_dir.glob("evals/*.json"))
    for path in eval_files:
        name = path.stem if path.parent == run_dir else f"{path.parent.name}/{path.stem}"
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError:
            data.skipped_lines += 1
            continue
        if isinstance(raw, dict) and raw.get("format") == FORMAT:
            data.evals[name] = EvalResult.from_json(raw)
    return data


def metric_series(metrics: list[dict[str, Any]]) -> dict[str, tuple[list, list]]:
    """``{key: (steps, values)}`` of every numeric metric."""
    return {key: series for group in metric_groups(metrics).values()
            for key, series in group.items()}


def metric_groups(metrics: list[dict[str, Any]]) -> dict[str, dict[str, tuple[list, list]]]:
    """``{group: {key: (steps, values)}}``: keys grouped by the part before the first '/'
    (keys without one go to 'train'); only numeric values are kept."""
    groups: dict[str, dict[str, tuple[list, list]]] = {}
    for index, row in enumerate(metrics):
        step = row.get("step", index)
        for key, value in row.items():
            if key == "step" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            group = key.split("/", 1)[0] if "/" in key else "train"
            xs, ys = groups.setdefault(group, {}).setdefault(key, ([], []))
            xs.append(step)
            ys.append(float(value))
    return groups
