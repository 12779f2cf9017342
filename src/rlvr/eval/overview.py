"""The first screen of `rlvr report`: did the run learn? Reward and accuracy per step with a
smoothed line, held-out before / after, where each step's time went, and the best and worst
completions of the last logged step; then the diagnostics grouped by meaning, with the metrics
that stayed at zero throughout collapsed into one "health" line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rlvr.eval.plots import save_figure  # noqa: E402
from rlvr.eval.results import EvalResult  # noqa: E402

# Diagnostics by meaning: (title, unit, key prefixes). A key goes to the first group that matches.
MEANING_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Reward and accuracy", "score", ("reward/", "accuracy", "verdict/", "outcome/")),
    ("Groups and advantages", "share / value", ("groups/", "advantage/", "filter/")),
    ("Completions", "tokens / share", ("completion/",)),
    ("Policy update", "value", ("loss", "grad_norm", "lr", "update/", "nonfinite")),
    ("KL and entropy", "nats", ("kl/", "entropy")),
    ("Evaluation during training", "accuracy", ("eval/",)),
    ("Time per stage", "seconds", ("time/",)),
    ("Throughput", "tokens / s", ("throughput/",)),
    ("Verifier pool", "count", ("reward_pool/",)),
)
STAGE_PREFIX = "time/"


def smooth(values: list[float], window: int) -> list[float]:
    """Trailing moving average over ``window`` values (shorter at the start)."""
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def split_health(series: dict[str, tuple[list, list]]) -> tuple[dict, list[str]]:
    """(the series that moved, the names of those that were 0 at every step)."""
    zero = sorted(k for k, (_, ys) in series.items() if ys and all(y == 0 for y in ys))
    return {k: v for k, v in series.items() if k not in zero}, zero


def group_by_meaning(series: dict[str, tuple[list, list]]) -> list[tuple[str, str, dict]]:
    """The series in MEANING_GROUPS order (others last); empty groups left out."""
    grouped: dict[str, dict] = {title: {} for title, _, _ in MEANING_GROUPS}
    units = {title: unit for title, unit, _ in MEANING_GROUPS}
    other: dict = {}
    for key in sorted(series):
        title = next((t for t, _, prefixes in MEANING_GROUPS if key.startswith(prefixes)), None)
        (grouped[title] if title else other)[key] = series[key]
    out = [(title, units[title], s) for title, s in grouped.items() if s]
    return out + ([("Other", "value", other)] if other else [])


def plot_learning(series: dict[str, tuple[list, list]], path: Path) -> Path | None:
    """Reward and training accuracy per step, raw and smoothed, side by side."""
    keys = [k for k in ("reward/mean", "accuracy") if k in series]
    if not keys:
        return None
    fig, axes = plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        xs, ys = series[key]
        window = max(1, len(ys) // 10)
        ax.plot(xs, ys, color="#9ab", lw=1, marker="." if len(xs) < 50 else None, label="per step")
        ax.plot(xs, smooth(ys, window), color="#135", lw=2, label=f"mean of {window}")
        ax.set_title("reward (mean per step)" if key == "reward/mean" else "training accuracy")
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_heldout(before: EvalResult | None, after: EvalResult | None, path: Path) -> Path | None:
    """Held-out greedy accuracy and pass@1 before and after training, with 95 % intervals."""
    runs = [(label, r) for label, r in (("before", before), ("after", after)) if r is not None]
    metrics = [("greedy_accuracy", "greedy accuracy"), ("mean_accuracy", "pass@1 (sampled)")]
    metrics = [(k, name) for k, name in metrics if any(k in r.summary for _, r in runs)]
    if not runs or not metrics:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    width = 0.8 / len(runs)
    for j, (label, result) in enumerate(runs):
        entries = [result.summary.get(k, {"value": 0, "low": 0, "high": 0}) for k, _ in metrics]
        xs = [i + j * width for i in range(len(metrics))]
        values = [e["value"] for e in entries]
        errors = [[v - e["low"] for v, e in zip(values, entries)],
                  [e["high"] - v for v, e in zip(values, entries)]]
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=label,
               color="#bbb" if label == "before" else "#2a7")
    ax.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(metrics))],
                  [name for _, name in metrics])
    ax.set_ylim(0, 1)
    ax.set_title(f"held-out ({(after or before).summary.get('num_prompts', 0)} prompts)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, path)


def plot_stages(series: dict[str, tuple[list, list]], path: Path) -> Path | None:
    """Seconds per stage of every step, stacked."""
    stages = [k for k in sorted(series) if k.startswith(STAGE_PREFIX)]
    if not stages:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    steps = series[stages[0]][0]
    bottom = [0.0] * len(steps)
    for key in stages:
        by_step = dict(zip(*series[key]))
        values = [by_step.get(s, 0.0) for s in steps]
        ax.bar(steps, values, bottom=bottom, label=key.removeprefix(STAGE_PREFIX), width=0.85)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xlabel("step")
    ax.set_ylabel("seconds")
    ax.set_title("time per step, by stage")
    ax.legend(fontsize=7, ncol=2)
    return save_figure(fig, path)


def best_and_worst(samples: list[dict[str, Any]], n: int = 3) -> tuple[int | None, list, list]:
    """The last logged step and its ``n`` highest- and lowest-reward samples."""
    scored = [s for s in samples if isinstance(s.get("reward"), (int, float))]
    if not scored:
        return None, [], []
    last = max(s.get("step", 0) for s in scored)
    ranked = sorted((s for s in scored if s.get("step", 0) == last), key=lambda s: -s["reward"])
    worst = ranked[-n:][::-1] if len(ranked) > n else []
    return last, ranked[:n], [s for s in worst if s not in ranked[:n]]
