"""`rlvr report RUN_DIR`: a self-contained HTML report of a training run plus its plots as PNGs.

The HTML embeds every plot as a data URI, so the single file can be mailed or archived. It holds:
the diagnostics plots (one figure per metric group), evaluation tables and a pass@k plot, sample
completions with their rewards, and the resolved config. A small inline script counts the
images that decoded and writes the count on ``<body data-plots-loaded>`` (a test opens the report
in headless Chromium and reads it).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from rlvr.eval.compare import curve_table
from rlvr.eval.diagnostics import missing_diagnostics
from rlvr.eval.overview import (best_and_worst, group_by_meaning, plot_heldout, plot_learning,
                                plot_stages, split_health)
from rlvr.eval.plots import plot_pass_at_k, plot_series
from rlvr.eval.rundir import RunData, metric_series, read_run

MAX_SAMPLES = 40
_SAMPLE_TEXT_KEYS = ("completion", "text", "response")

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0} td,th{border:1px solid #ddd;
padding:.25em .5em;vertical-align:top;text-align:left} th{background:#f4f4f4}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em;white-space:pre-wrap}
.note{color:#666;font-size:.9em} .health{color:#555;font-size:.9em}
.panels{display:grid;grid-template-columns:repeat(2,1fr);gap:.4em}
.panels img{width:100%} .panel[data-panel=learning]{grid-column:span 2}
.turn{margin:.2em 0} .turn-env{background:#fff6dd;border-left:4px solid #d9a400}
.turn-model{border-left:4px solid #7aa7d9} .turn b{font-size:.75em;color:#666}
"""

_CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img[data-plot]'), ok = 0;
  imgs.forEach(function (im) { if (im.complete && im.naturalWidth > 0) ok += 1; });
  document.body.setAttribute('data-plots-loaded', ok + '/' + imgs.length);
});
"""


def write_report(run_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Render the report of ``run_dir`` into ``out_dir`` (default RUN_DIR/report); returns the
    path of report.html. Plots go to ``out_dir/plots/*.png``."""
    data = read_run(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else data.run_dir / "report"
    plot_dir = out_dir / "plots"
    moved, zero = split_health(metric_series(data.metrics))
    periodic = _periodic(data)
    parts = [f"<h1>rlvr run report: {html.escape(str(data.run_dir))}</h1>", _facts(data),
             _overview_html(data, periodic, moved, zero, plot_dir)]
    parts.append("<h2>Diagnostics</h2>")
    for index, (title, unit, series) in enumerate(group_by_meaning(moved)):
        name = f"diag_{index:02d}_" + "".join(c if c.isalnum() else "_" for c in title.lower())
        parts.append(_img(plot_series(series, plot_dir / f"{name}.png", title=f"{title} ({unit})")))
    if not data.metrics:
        parts.append("<p class=note>No metrics.jsonl in this run directory.</p>")
    missing = missing_diagnostics({key for row in data.metrics for key in row})
    if data.metrics and missing:
        parts.append("<p class=note>Standard diagnostics not recorded by this run (some are off "
                     "by configuration, e.g. KL when no reference model is loaded): "
                     + html.escape(", ".join(missing)) + ".</p>")
    parts.append("<h2>Evaluation</h2>" + _evals_html(data))
    if periodic:
        parts.append(_img(plot_series(_periodic_series(periodic), plot_dir / "eval_during_training.png",
                                      title="held-out evaluation during training")))
    parts.append("<h2>Sample completions</h2>" + _samples_html(data.samples))
    parts.append("<h2>Config</h2><pre>" + html.escape(data.config_text or "(no config.yaml)")
                 + "</pre>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rlvr report</title>"
            f"<style>{_STYLE}</style><script>{_CHECK_SCRIPT}</script></head><body>"
            + "\n".join(parts) + "</body></html>")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(page)
    return path


def _has_curve(curves: dict[str, Any]) -> bool:
    """A pass@k curve needs some evaluation with k > 1 (greedy-only before / after have k = 1)."""
    return any(int(k) > 1 for r in curves.values() for k in r.summary.get("pass@k", {}))


def _periodic(data: RunData) -> dict[int, Any]:
    return {int(name.rsplit("_", 1)[1]): r for name, r in data.evals.items()
            if name.startswith("evals/step_")}


def _overview_html(data: RunData, periodic: dict[int, Any], moved: dict, zero: list[str],
                   plot_dir: Path) -> str:
    """The "did it learn?" section: its panels first, then best / worst samples, then health."""
    curves = {name: r for name, r in data.evals.items() if not name.startswith("evals/")}
    for step in sorted({min(periodic), max(periodic)} if periodic else ()):
        curves[f"step {step}"] = periodic[step]
    panels = [("learning", plot_learning(moved, plot_dir / "overview_learning.png")),
              ("heldout", plot_heldout(data.evals.get("eval_before"), data.evals.get("eval_after"),
                                       plot_dir / "overview_heldout.png")),
              ("pass_at_k", plot_pass_at_k(list(curves.values()), list(curves),
                                           plot_dir / "overview_pass_at_k.png")
               if _has_curve(curves) else None),
              ("stages", plot_stages(moved, plot_dir / "overview_stages.png"))]
    figures = "".join(f"<div class=panel data-panel='{name}'>{_img(path)}</div>"
                      for name, path in panels if path is not None)
    parts = ["<section id=overview><h2>Did it learn?</h2>", f"<div class=panels>{figures}</div>"]
    step, best, worst = best_and_worst(data.samples)
    if best:
        parts.append(f"<h3>Best and worst completions of step {step}</h3>"
                     + _samples_table(best + worst, panel="samples"))
    if zero:
        parts.append("<p class=health data-panel='health'><b>Health:</b> zero at every step: "
                     + html.escape(", ".join(zero)) + ".</p>")
    return "".join(parts) + "</section>"


def _periodic_series(periodic: dict[int, Any]) -> dict[str, tuple[list, list]]:
    """``pass@k`` / ``maj@k`` / greedy accuracy against the training step."""
    series: dict[str, tuple[list, list]] = {}
    for step in sorted(periodic):
        summary = periodic[step].summary
        for name in ("pass@k", "maj@k"):
            for k, entry in summary.get(name, {}).items():
                xs, ys = series.setdefault(name[:-1] + k, ([], []))
                xs.append(step)
                ys.append(entry["value"])
        if "greedy_accuracy" in summary:
            xs, ys = series.setdefault("greedy accuracy", ([], []))
            xs.append(step)
            ys.append(summary["greedy_accuracy"]["value"])
    return series


def _img(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<figure><img data-plot='{html.escape(path.stem)}' alt='{html.escape(path.stem)}' "
            f"src='data:image/png;base64,{encoded}'></figure>")


def _facts(data: RunData) -> str:
    last = data.metrics[-1] if data.metrics else {}
    facts = [("steps logged", len(data.metrics)), ("samples logged", len(data.samples)),
             ("evaluations", len(data.evals))]
    facts += [(key, last[key]) for key in ("reward/mean", "accuracy") if key in last]
    if data.skipped_lines:
        facts.append(("unreadable JSON lines skipped", data.skipped_lines))
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_num(v))}</td></tr>"
                   for k, v in facts)
    return f"<table>{rows}</table>"


def _evals_html(data: RunData) -> str:
    parts = []
    if data.evals:
        labels = list(data.evals)
        parts.append(_markdown_table_html(curve_table(list(data.evals.values()), labels)))
        parts.append("<p class=note>Percentages with 95 % bootstrap intervals over prompts.</p>")
    return "".join(parts) or "<p class=note>No evaluation files in this run directory.</p>"


def _samples_html(samples: list[dict[str, Any]]) -> str:
    if not samples:
        return "<p class=note>No samples.jsonl in this run directory.</p>"
    shown = samples[-MAX_SAMPLES:]
    return (f"<p class=note>The last {len(shown)} of {len(samples)} logged samples.</p>"
            + _samples_table(shown))


def _samples_table(samples: list[dict[str, Any]], panel: str | None = None) -> str:
    rows = []
    for sample in samples:
        text_key = next((k for k in _SAMPLE_TEXT_KEYS if k in sample), None)
        text = str(sample.get(text_key, "")) if text_key else ""
        others = {k: v for k, v in sample.items() if k not in (text_key, "prompt", "transcript")}
        shown = (_transcript_html(sample["transcript"]) if sample.get("transcript")
                 else "<pre>" + html.escape(text[:2000]) + "</pre>")
        rows.append("<tr><td>" + html.escape(json.dumps(others, default=str)[:400]) + "</td><td>"
                    + html.escape(str(sample.get("prompt", ""))[:600]) + "</td><td>"
                    + shown + "</td></tr>")
    marker = f" data-panel='{panel}'" if panel else ""
    return (f"<table{marker}><tr><th>step / reward</th><th>prompt</th><th>completion</th></tr>"
            + "".join(rows) + "</table>")


def _transcript_html(segments: list[dict[str, Any]]) -> str:
    """A multi-turn episode, whole: every turn in order, environment / tool turns marked
    (class ``turn-env``) apart from the model's (``turn-model``)."""
    parts = []
    for seg in segments:
        source = "model" if seg.get("source") == "model" else "env"
        label = "model" if source == "model" else "environment / tool"
        parts.append(f"<pre class='turn turn-{source}'><b>{label}</b>\n"
                     + html.escape(str(seg.get("text", ""))) + "</pre>")
    return "".join(parts)


def _markdown_table_html(table: str) -> str:
    lines = [line.strip().strip("|").split("|") for line in table.splitlines()]
    head, body = lines[0], lines[2:]
    out = "<tr>" + "".join(f"<th>{html.escape(c.strip())}</th>" for c in head) + "</tr>"
    for cells in body:
        out += "<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in cells) + "</tr>"
    return f"<table>{out}</table>"


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
