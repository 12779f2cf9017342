"""Matplotlib figures for evaluations and training diagnostics (headless Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullLocator  # noqa: E402

from rlvr.eval.results import EvalResult  # noqa: E402


def plot_pass_at_k(results: Sequence[EvalResult], labels: Sequence[str], path: str | Path,
                   title: str | None = None) -> Path:
    """pass@k against k (log2 axis) with the bootstrap band, one line per evaluation."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for result, label in zip(results, labels):
        table = result.summary["pass@k"]
        ks = sorted(int(k) for k in table)
        values = [table[str(k)]["value"] for k in ks]
        line, = ax.plot(ks, values, marker="o", label=label)
        ax.fill_between(ks, [table[str(k)]["low"] for k in ks],
                        [table[str(k)]["high"] for k in ks], color=line.get_color(), alpha=0.15)
    ax.set_xscale("log", base=2)
    all_ks = sorted({int(k) for r in results for k in r.summary["pass@k"]})
    ax.set_xticks(all_ks, [str(k) for k in all_ks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("k (samples per prompt)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title or f"pass@k on {results[0].task}")
    ax.legend()
    return save_figure(fig, path)


def plot_series(series: dict[str, tuple[list[float], list[float]]], path: str | Path,
                title: str, xlabel: str = "step") -> Path:
    """Several metrics of one group (e.g. every ``time/*`` key), one small panel each."""
    names = sorted(series)
    cols = min(3, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        xs, ys = series[name]
        ax.plot(xs, ys, marker="." if len(xs) < 50 else None)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title)
    return save_figure(fig, path)


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
