"""The ``rlvr`` command line: train | sft | init | models | tasks | doctor (and eval / compare / report)."""

from __future__ import annotations

import argparse
import sys

from rlvr.configs.base import ConfigError
from rlvr.models.errors import EXIT_BASE_MISMATCH, BaseModelMismatch
from rlvr.rewards.errors import RewardInfraError


def _cmd_train(args: argparse.Namespace) -> int:
    from rlvr.config import load_config

    overrides = list(args.overrides)
    config_path = args.config
    if config_path is not None and "=" in config_path:  # `rlvr train key=value ...`
        overrides.insert(0, config_path)
        config_path = None
    from rlvr.trainer.outcomes import resume_config, train_command

    if args.resume is not None:  # the run's own config.yaml, checked against its checkpoint
        cfg = resume_config(args.resume, config_path, overrides, args.allow_resume_mismatch)
    else:
        cfg = load_config(config_path, overrides)  # validated before anything heavy is loaded
    import os

    from rlvr.launch.checks import preflight

    preflight(cfg)  # world size, backend, launcher.nproc: before any model loads
    if cfg.launcher.nproc > 1 and "WORLD_SIZE" not in os.environ:  # not yet one of the ranks
        from rlvr.launch.spawn import spawn_train

        return spawn_train(_train_argv(args), cfg.launcher.nproc)
    return train_command(cfg, resume=args.resume is not None)


def _cmd_sft(args: argparse.Namespace) -> int:
    from rlvr.config import load_config
    from rlvr.trainer.sft import sft_command

    overrides, config_path = list(args.overrides), args.config
    if config_path is not None and "=" in config_path:  # `rlvr sft key=value ...`
        overrides.insert(0, config_path)
        config_path = None
    return sft_command(load_config(config_path, overrides))


def _train_argv(args: argparse.Namespace) -> list[str]:
    """The same ``rlvr train`` command line, for each rank to run."""
    argv = ["train", *([args.config] if args.config else []), *args.overrides]
    if args.resume is not None:
        argv += ["--resume", args.resume]
    if args.allow_resume_mismatch:
        argv += ["--allow-resume-mismatch", args.allow_resume_mismatch]
    return argv


def _cmd_models(args: argparse.Namespace) -> int:
    from rlvr.models import embedded

    if args.action == "list":
        for name, spec in embedded.EMBEDDED.items():
            state = "cached" if embedded.is_fetched(name) else "not fetched"
            print(f"{name:<24}{state:<13}{spec.description}")
        print(f"cache: {embedded.cache_root() / 'models'}")
        return 0
    if args.name not in embedded.EMBEDDED:
        raise ConfigError(f"unknown embedded model {args.name!r}; allowed: "
                          f"{', '.join(embedded.EMBEDDED)}")
    print(embedded.fetch(args.name))
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from rlvr import doctor

    checks = doctor.run_checks()
    print(doctor.render(checks))
    return doctor.exit_code(checks)


def _cmd_init(args: argparse.Namespace) -> int:
    from rlvr.project_init import write_project

    try:
        files = write_project(args.dir, force=args.force)
    except FileExistsError as err:
        raise ConfigError(str(err)) from None
    for path in files.values():
        print(f"wrote {path}")
    print(f"train it:  rlvr train {files['config.yaml']}   (your reward: {files['reward.py']})")
    return 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    if args.action == "list":
        _list_tasks()
        return 0
    return _show_task(args.name, args.overrides)


def _list_tasks() -> None:
    import textwrap

    from rlvr.data.catalogue import FILE_KINDS, SHIPPED_TASKS
    from rlvr.data.reasoning_gym import task_names

    print("Tasks shipped with rlvr (task: NAME; rlvr tasks show NAME):")
    for name, task in SHIPPED_TASKS.items():
        used_by = f"  [{task.example_config}]" if task.example_config else ""
        print(f"  {name:<14}{task.description}{used_by}")
    print("\nYour own files (task.kind=KIND, task.path=FILE):")
    for kind, what in FILE_KINDS.items():
        print(f"  {kind:<14}{what}")
    names = task_names()
    print(f"\nreasoning-gym generators ({len(names)}; task: NAME, parameters in task.params):")
    print(textwrap.fill(", ".join(names), 100, initial_indent="  ", subsequent_indent="  "))


def _show_task(name: str, overrides: list[str]) -> int:
    from rlvr.config import load_config
    from rlvr.data.tasks import build_task
    from rlvr.data.templates import build_messages

    cfg = load_config(None, [f"task={name}", *overrides])
    task = build_task(cfg.task)
    row = task.train_rows()[0]
    verdict = task.verify(row.reference, row)
    for message in build_messages(row, cfg.task.system_prompt, cfg.task.instruction):
        print(f"[{message['role']}]\n{message['content']}\n")
    print(f"[reference]\n{row.reference}\n")
    print(f"[verifier on the reference] score={verdict.score} verdict={verdict.verdict}"
          + (f" error={verdict.error}" if verdict.error else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlvr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="run RL training")
    train.add_argument("config", nargs="?", help="YAML config file (optional)")
    train.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue RUN_DIR from its newest checkpoint that verifies")
    train.add_argument("--allow-resume-mismatch", metavar="WHAT",
                       help="comma-separated: config,dataset,tokenizer (resume despite changes)")
    train.set_defaults(func=_cmd_train)
    sft = sub.add_parser("sft", help="supervised fine-tuning on the task's reference answers")
    sft.add_argument("config", nargs="?", help="YAML config file (optional)")
    sft.add_argument("overrides", nargs="*", help="dotted key=value overrides (sft.epochs=2...)")
    sft.set_defaults(func=_cmd_sft)
    models = sub.add_parser("models", help="embedded offline models")
    models_sub = models.add_subparsers(dest="action", required=True)
    models_sub.add_parser("list", help="list embedded models")
    fetch = models_sub.add_parser("fetch", help="fetch and cache an embedded model")
    fetch.add_argument("name")
    models.set_defaults(func=_cmd_models)
    tasks = sub.add_parser("tasks", help="list tasks or show a sample")
    tasks_sub = tasks.add_subparsers(dest="action", required=True)
    tasks_sub.add_parser("list", help="list task names")
    show = tasks_sub.add_parser("show", help="a sample prompt, its reference and its verdict")
    show.add_argument("name")
    show.add_argument("overrides", nargs="*", help="dotted key=value overrides (task.params...)")
    tasks.set_defaults(func=_cmd_tasks)
    init = sub.add_parser("init", help="write a small project (config, reward module, data) to DIR")
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--force", action="store_true", help="overwrite existing project files")
    init.set_defaults(func=_cmd_init)
    sub.add_parser("doctor", help="check what this machine can do (and how to fix what is missing)"
                   ).set_defaults(func=_cmd_doctor)
    from rlvr.cli_eval import add_subcommands  # eval | compare | report

    add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rlvr.memory import tune_allocator

    tune_allocator()  # before torch is imported (rlvr/memory.py)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"rlvr: error: {err}", file=sys.stderr)
        return 2
    except RewardInfraError as err:
        print(f"rlvr: aborted: {err}", file=sys.stderr)
        return 3
    except BaseModelMismatch as err:
        print(f"rlvr: error: {err}", file=sys.stderr)
        return EXIT_BASE_MISMATCH


if __name__ == "__main__":
    sys.exit(main())
