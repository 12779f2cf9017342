"""``rlvr train ... launcher.nproc=N``: start N ranks of the same command on this machine through
torch's elastic agent (what ``torchrun --standalone`` runs), and report the rank that failed."""

from __future__ import annotations

import os
import sys
import uuid

from rlvr.launch.checks import available_cpus


def spawn_train(argv: list[str], nproc: int) -> int:
    """Run ``python -m rlvr <argv>`` as ``nproc`` ranks; their exit code (the first failed
    rank's, named on stderr)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # as torchrun: ranks share the cores instead of each starting one thread per core
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, available_cpus() // nproc)))
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc,
                          run_id=f"rlvr-{uuid.uuid4().hex[:8]}", rdzv_backend="c10d",
                          rdzv_endpoint="127.0.0.1:0", max_restarts=0, monitor_interval=0.5,
                          start_method="spawn")
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "rlvr", *argv)
    except ChildFailedError as err:
        rank, failure = err.get_first_failure()  # the root cause, not the ranks stopped after
        print(f"rlvr: rank {rank} of {nproc} failed (exit code {failure.exitcode}); the other "
              f"ranks were stopped", file=sys.stderr)
        return failure.exitcode if failure.exitcode > 0 else 1
    return 0
