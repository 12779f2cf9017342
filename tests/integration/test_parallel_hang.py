"""A rank that hangs (SIGSTOP) makes the other exit with an error naming it once
``trainer.timeout_s`` has passed, instead of waiting forever."""

from __future__ import annotations

import time

import pytest

from faults_support import write_task
from parallel_support import rlvr, run_args


@pytest.mark.slow
def test_a_hung_rank_is_named_after_the_collective_timeout(tmp_path, tiny_model_dir):
    data = write_task(tmp_path / "sums.jsonl", train_rows=8)
    args = ["train", *run_args(tiny_model_dir, data, tmp_path / "run",
                               extra=("trainer.timeout_s=5",)), "launcher.nproc=2"]
    started = time.monotonic()
    done = rlvr(args, fault="stage:update:1", fault_rank=1, signal="STOP", timeout=170)
    assert done.returncode == 4, done.stderr[-3000:]
    assert "rank 0: collective" in done.stderr and "rank(s) 1 died or did not answer" in done.stderr
    assert "trainer.timeout_s=5 s" in done.stderr
    assert "rank 0 of 2 failed (exit code 4)" in done.stderr
    assert time.monotonic() - started < 150
