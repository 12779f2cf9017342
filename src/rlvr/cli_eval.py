"""The evaluation subcommands: `rlvr eval`, `rlvr compare`, `rlvr report`.

``add_subcommands(subparsers)`` registers them on the main parser; each parser sets
``func(args) -> int`` as its default. ``python -m rlvr.cli_eval ...`` runs them standalone.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlvr.models.errors import EXIT_BASE_MISMATCH, BaseModelMismatch


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    _add_eval(subparsers)
    _add_compare(subparsers)
    _add_report(subparsers)


def _add_eval(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="pass@k, maj@k, mean and greedy accuracy of a model on a task's held-out split",
        description="Sample n completions per held-out prompt and report unbiased pass@k, maj@k, "
        "mean and greedy accuracy with bootstrap intervals. The results file keeps per-prompt "
        "counts and is resumed if interrupted.")
    p.add_argument("--model", help="embedded model name, HF directory, a checkpoint "
                   "RUN_DIR/ckpt/step_N, or RUN_DIR for its newest checkpoint "
                   "(default: model.name of the config)")
    p.add_argument("--base", help="the base model a checkpoint is put on (default: the one it "
                   "was trained on); a LoRA checkpoint refuses a base with other weights")
    p.add_argument("--task", help="reasoning-gym task name (default: task of the config)")
    p.add_argument("--config", help="a run config YAML: its task, prompt template and model")
    p.add_argument("--n", type=int, default=64, help="samples per prompt (default 64)")
    p.add_argument("--k", help="comma-separated k values (default: 1, 2, 4, ..., n)")
    p.add_argument("--prompts", type=int, help="held-out prompts (default: task.eval_size)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int, help="default: rollout.max_new_tokens")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-greedy", action="store_true", help="skip the greedy decode")
    p.add_argument("--prompts-per-batch", type=int, default=8,
                   help="prompts generated (and saved) together; the unit of resumption")
    p.add_argument("--out", help="results JSON (default: evals/<model>__<task>__n<N>.json)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--suite", help="benchmark suites instead of the task: math500, aime, amc, "
                   "gsm8k, gpqa, humaneval (comma-separated) or all; --out is then a directory")
    p.add_argument("--suite-dir", help="directory holding the suites' files (default: "
                   "$RLVR_SUITES)")
    p.add_argument("--suite-sample", action="store_true",
                   help="use the small samples shipped with rlvr (for tests)")
    p.add_argument("--suite-fetch", action="store_true",
                   help="load the full suites from the Hugging Face hub with the datasets "
                   "package (pip install datasets; needs hub access)")
    p.add_argument("overrides", nargs="*", help="dotted config overrides, e.g. task.eval_size=32")
    p.set_defaults(func=run_eval)


def _add_compare(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="pass@k curves of several evaluations, a table and solved-set overlaps",
        description="Plot the pass@k curves (log-scaled k) of several results files of one task, "
        "print a table, and the per-prompt solved-set overlap of each file against the first "
        "at --k (the reasoning-boundary analysis).")
    p.add_argument("results", nargs="+", help="results JSON files written by `rlvr eval`")
    p.add_argument("--labels", help="comma-separated names (default: file stems)")
    p.add_argument("--k", type=int, help="k of the overlap (default: the smallest n)")
    p.add_argument("--out", default="compare", help="output directory (default: compare/)")
    p.set_defaults(func=run_compare)


def _add_report(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="self-contained HTML report of a training run",
                              description="Write RUN_DIR/report/report.html (plots embedded) "
                              "and the plots as PNG files.")
    p.add_argument("run_dir")
    p.add_argument("--out", help="output directory (default: RUN_DIR/report)")
    p.set_defaults(func=run_report)


def _user_errors(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Report bad arguments and unreadable files as one line and exit status 2, a checkpoint on
    the wrong base model as exit status 5 (no traceback)."""
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (ValueError, FileNotFoundError) as err:
            print(f"rlvr {args.command}: error: {err}", file=sys.stderr)
            return 2
        except BaseModelMismatch as err:
            print(f"rlvr {args.command}: error: {err}", file=sys.stderr)
            return EXIT_BASE_MISMATCH
    return run


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip("/")).strip("-") or "model"


@_user_errors
def run_eval(args: argparse.Namespace) -> int:
    from rlvr.config import load_config
    from rlvr.data.tasks import build_task
    from rlvr.eval.evaluate import evaluate
    from rlvr.models.loader import load_policy
    from rlvr.configs.reward import RewardConfig
    from rlvr.rewards.pipeline import RewardPipeline
    from rlvr.rollout.engine import build_engine, check_engine

    overrides = list(args.overrides)
    overrides += [f"model.name={args.model}"] if args.model else []
    overrides += [f"task.name={args.task}"] if args.task else []
    overrides += [f"task.eval_size={args.prompts}"] if args.prompts else []
    cfg = load_config(args.config, overrides)
    settings = _settings(args, cfg.rollout.max_new_tokens)
    if args.suite:  # benchmark suites: eval/suites.py
        from rlvr.eval.suites import run_suites
        return run_suites(args, cfg, settings, _slug(cfg.model.name))
    task = build_task(cfg.task)
    rows = task.eval_rows()
    out = Path(args.out or f"evals/{_slug(cfg.model.name)}__{_slug(task.name)}__n{args.n}.json")
    check_engine(cfg)
    policy = load_policy(cfg.model, base=args.base)
    engine = build_engine(cfg, policy, out.parent, min_batch=args.n)
    context = {"task": cfg.task.model_dump(mode="json"), "model": cfg.model.model_dump(mode="json")}
    # The task's verifier alone (no shaping terms), in workers configured by reward.pool.
    scoring = RewardConfig(pool=cfg.reward.pool,
                           max_infra_error_share=cfg.reward.max_infra_error_share)
    try:
        with RewardPipeline(task, scoring) as pipeline:
            result = evaluate(engine, task, rows, settings, cfg.model.name, out,
                              progress=not args.quiet, scorer=pipeline.score, context=context)
    finally:
        engine.close()
    print(_summary_text(result))
    print(f"results: {out}")
    return 0


def _settings(args: argparse.Namespace, default_max_new_tokens: int) -> Any:
    from rlvr.configs.eval import EvalSettings
    from rlvr.eval.passk import parse_ks

    return EvalSettings(
        n=args.n, ks=parse_ks(args.k, args.n), temperature=args.temperature, top_p=args.top_p,
        max_new_tokens=args.max_new_tokens or default_max_new_tokens, seed=args.seed,
        greedy=not args.no_greedy, prompts_per_batch=args.prompts_per_batch)


def _summary_text(result: Any) -> str:
    from rlvr.eval.compare import curve_table

    s = result.summary
    lines = [curve_table([result], [Path(result.model).name or result.model]), ""]
    for key in ("mean_accuracy", "greedy_accuracy", "mean_score"):
        if key in s:
            e = s[key]
            lines.append(f"{key}: {100 * e['value']:.1f}% [{100 * e['low']:.1f}, "
                         f"{100 * e['high']:.1f}]")
    lines.append(f"prompts: {s['num_prompts']} scored, {s['unscorable_prompts']} unscorable; "
                 f"infra errors: {s['infra_errors']}; mean length {s.get('length_mean', 0):.1f} "
                 f"tokens, truncated {100 * s.get('truncated_share', 0):.1f}%")
    return "\n".join(lines)


@_user_errors
def run_compare(args: argparse.Namespace) -> int:
    from rlvr.eval.compare import common_rows, compare_text, on_rows
    from rlvr.eval.plots import plot_pass_at_k
    from rlvr.eval.results import load_result

    results = [load_result(path) for path in args.results]
    rows = common_rows(results)
    results = [on_rows(result, rows) for result in results]  # plot and tables are paired
    labels = args.labels.split(",") if args.labels else [Path(p).stem for p in args.results]
    if len(labels) != len(results):
        raise ValueError(f"--labels names {len(labels)} models but {len(results)} files were given")
    text = compare_text(results, labels, args.k)
    out = Path(args.out)
    plot = plot_pass_at_k(results, labels, out / "pass_at_k.png")
    (out / "compare.md").write_text(text)
    print(text)
    print(f"plot: {plot}\ntable: {out / 'compare.md'}")
    return 0


@_user_errors
def run_report(args: argparse.Namespace) -> int:
    from rlvr.eval.report import write_report

    path = write_report(args.run_dir, args.out)
    print(f"report: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rlvr")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
