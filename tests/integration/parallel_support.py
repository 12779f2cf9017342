"""Helpers of the multi-process tests: tiny-model runs launched by torchrun or ``launcher.nproc``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from faults_support import env, train_args

AGGREGATIONS = ("token_mean", "seq_mean_token_sum", "seq_mean_token_mean",
                "seq_mean_token_sum_norm")


def run_args(model: Path, data: Path, run_dir: Path, steps: int = 3, every: int = 0,
             extra: tuple[str, ...] = ()) -> list[str]:
    """A tiny run whose step holds 4 prompts x 2 samples (2 prompts per rank on 2 ranks)."""
    return [*train_args(model, data, run_dir, steps=steps, every=every),
            "rollout.prompts_per_step=4", "rollout.max_new_tokens=6", "optim.lr=0.001",
            "optim.micro_batch_size=3", "model.autocast=off", *extra]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_driver(spec: list[list[str]], work: Path, nproc: int,
                    timeout: float = 150) -> subprocess.CompletedProcess:
    """Every run of ``spec`` (a list of override lists) in one launch of ``nproc`` ranks."""
    path = work / "spec.json"
    path.write_text(json.dumps({"runs": spec}))
    driver = str(Path(__file__).parent / "parallel_driver.py")
    if nproc == 1:
        cmd = [sys.executable, driver, str(path)]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
               "--master-addr=127.0.0.1", f"--master-port={free_port()}", driver, str(path)]
    return subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=timeout, check=False)


def rlvr(args: list[str], fault: str | None = None, fault_rank: int | None = None,
         timeout: float = 150, signal: str | None = None) -> subprocess.CompletedProcess:
    """``python -m rlvr ARGS`` (``launcher.nproc`` in ARGS spawns the ranks); ``fault`` kills
    (or with ``signal='STOP'`` freezes) rank ``fault_rank`` there (runs/faultpoints.py)."""
    environ = env(fault, signal)
    if fault_rank is not None:
        environ["RLVR_FAULT_RANK"] = str(fault_rank)
    return subprocess.run([sys.executable, "-m", "rlvr", *args], env=environ,
                          capture_output=True, text=True, timeout=timeout, check=False)
