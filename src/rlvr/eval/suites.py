"""`rlvr eval --suite NAME[,NAME|all]`: evaluate one model on benchmark suites (data/suites.py),
one results file per suite through the shared ``evaluate`` path, a table per suite and an
overall one (docs/evaluation.md "Benchmark suites")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rlvr.eval.compare import curve_table
from rlvr.eval.results import EvalResult


def overall_table(results: list[EvalResult], labels: list[str]) -> str:
    """One row per suite (pass@k, greedy, maj@k), then the mean accuracy of each suite and
    over all prompts (each prompt counts once, whatever its suite)."""
    lines = [curve_table(results, labels), "", "| suite | prompts | mean accuracy |",
             "|---|---|---|"]
    total = weighted = 0.0
    for result, label in zip(results, labels):
        s = result.summary
        prompts, accuracy = s.get("num_prompts", 0), s.get("mean_accuracy", {}).get("value")
        shown = "–" if accuracy is None else f"{100 * accuracy:.1f}"
        lines.append(f"| {label} | {prompts} | {shown} |")
        if accuracy is not None:
            total, weighted = total + prompts, weighted + prompts * accuracy
    lines.append(f"| all | {int(total)} | {100 * weighted / total:.1f} |" if total else
                 "| all | 0 | – |")
    return "\n".join(lines)


def suite_out_dir(args: argparse.Namespace, model_slug: str) -> Path:
    return Path(args.out or f"evals/suites/{model_slug}")


def run_suites(args: argparse.Namespace, cfg: Any, settings: Any, model_slug: str) -> int:
    """Evaluate every named suite with its own verifier; prints and writes the tables."""
    from rlvr.configs.reward import RewardConfig
    from rlvr.data.suites import load_suite, suite_names
    from rlvr.eval.evaluate import evaluate
    from rlvr.models.loader import load_policy
    from rlvr.rewards.pipeline import RewardPipeline

    names = suite_names(args.suite)
    fetch = bool(getattr(args, "suite_fetch", False))
    if fetch and (args.suite_sample or args.suite_dir):
        raise ValueError("--suite-fetch loads the suites from the hub: drop --suite-sample / "
                         "--suite-dir")
    tasks = [load_suite(n, args.suite_dir, args.suite_sample, args.prompts, fetch) for n in names]
    out_dir = suite_out_dir(args, model_slug)
    engine = _engine(cfg, load_policy(cfg.model, base=args.base), settings.n, out_dir)
    scoring = RewardConfig(pool=cfg.reward.pool,
                           max_infra_error_share=cfg.reward.max_infra_error_share)
    results, sections = [], []
    try:
        for name, task in zip(names, tasks):
            context = {"suite": name, "sample": bool(args.suite_sample), "fetched": fetch,
                       "model": cfg.model.model_dump(mode="json")}
            with RewardPipeline(task, scoring) as pipeline:
                result = evaluate(engine, task, task.eval_rows(), settings, cfg.model.name,
                                  out_dir / f"{name}__n{settings.n}.json", progress=not args.quiet,
                                  scorer=pipeline.score, context=context)
            results.append(result)
            sections.append(f"## {task.suite.title} ({name})\n\n{curve_table([result], [name])}")
    finally:
        engine.close()  # an engine in another process stops with the evaluation
    text = "\n\n".join(sections + [f"## Overall\n\n{overall_table(results, names)}"]) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "suites.md").write_text(text)
    print(text)
    print(f"results: {out_dir}")
    return 0


def _engine(cfg: Any, policy: Any, n: int, out_dir: Path) -> Any:
    """The rollout engine ``cfg.rollout.engine`` names, built as `rlvr eval` builds it; the suite
    rows carry their own answer-format instruction, so the config's instruction is dropped."""
    from rlvr.rollout.engine import build_engine

    no_instruction = cfg.model_copy(update={"task": cfg.task.model_copy(update={"instruction": None})})
    return build_engine(no_instruction, policy, out_dir, min_batch=n)
