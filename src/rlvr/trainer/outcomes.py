"""``rlvr train`` outcomes: resume config, exit codes and one-line messages (docs/reliability.md).

Exit codes: 0 finished or preempted (SIGTERM: checkpoint written), 2 refused before training
(config, resume identity, dataset quarantine threshold), 3 reward infrastructure abort (cli.py),
4 aborted during training (non-finite steps, checkpoint write failure, out of memory, another
rank died or timed out), 5 a LoRA
checkpoint does not fit the base model (``BaseModelMismatch``, cli.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rlvr.configs.base import ConfigError

EXIT_ABORTED = 4


def resume_config(run_dir: str, config_path: str | None, overrides: list[str],
                  allow: str | None):
    """The run's saved config.yaml (or ``config_path``) with overrides; log.run_dir = RUN_DIR."""
    from rlvr.config import load_config

    path = Path(config_path) if config_path else Path(run_dir) / "config.yaml"
    if not Path(run_dir).is_dir():
        raise ConfigError(f"--resume {run_dir}: no such run directory")
    if not path.is_file():
        raise ConfigError(f"--resume {run_dir}: {path} not found; is this an rlvr run directory?")
    extra = [f"log.run_dir={run_dir}"]
    if allow:
        extra.append(f"checkpoint.allow_mismatch=[{allow}]")
    return load_config(path, [*overrides, *extra])


def train_command(cfg, resume: bool) -> int:
    """Run ``train`` and turn the reliability outcomes into exit codes and messages."""
    import torch

    from rlvr.data.quarantine import DatasetRejected
    from rlvr.runs.checkpoint import CheckpointError
    from rlvr.trainer.guards import NonFiniteAbort
    from rlvr.trainer.parallel import RankFailure
    from rlvr.trainer.loop import train
    from rlvr.runs.session import ResumeRefused
    from rlvr.runs.signals import Preempted

    try:
        summary = train(cfg, resume=resume)
    except Preempted as note:
        print(f"rlvr: {note}", file=sys.stderr)
        return 0
    except (ResumeRefused, DatasetRejected) as err:
        raise ConfigError(str(err)) from None
    except (NonFiniteAbort, CheckpointError, MemoryError, torch.OutOfMemoryError,
            RankFailure) as err:
        print(f"rlvr: aborted: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_ABORTED
    if summary.get("rank", 0) != 0:  # rank 0 says it once
        return 0
    print(f"final model (Hugging Face format): {summary['final_dir']}")
    return 0
