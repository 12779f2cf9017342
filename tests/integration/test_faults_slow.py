"""The full kill matrix and a short chaos soak (``pytest -m slow``): one real ``kill -9`` at
every fault point and at random moments, each resumed to the end and compared bit for bit with
the uninterrupted run (F01, F02, F26 scaled down)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from faults_support import (assert_identical, env, metrics, rlvr_train, samples, tensors,
                            train_args, write_task)

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
POINTS = ["stage:rollout:3", "stage:reward:3", "stage:advantages:3", "stage:update:3",
          "backward:3", "optimizer_step:3", "step_end:4", "ckpt:after_model:2",
          "ckpt:after_optimizer:2", "ckpt:before_manifest:2", "ckpt:before_rename:2",
          "ckpt:before_latest:2", "ckpt:before_rotate:2"]


@pytest.fixture(scope="module")
def setup_dirs(tmp_path_factory, tiny_model_dir):
    base = tmp_path_factory.mktemp("slow-faults")
    data = write_task(base / "sums.jsonl")
    ref = base / "ref"
    assert rlvr_train(train_args(tiny_model_dir, data, ref)).returncode == 0
    return data, ref


def _same_as_reference(run_dir: Path, ref: Path) -> None:
    for name in ("model", "optimizer", "trainer"):
        assert_identical(tensors(run_dir, 6, name), tensors(ref, 6, name))
    assert metrics(run_dir) == metrics(ref)
    assert samples(run_dir) == samples(ref)


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_each_point_then_resume(tmp_path, tiny_model_dir, setup_dirs, point):
    data, ref = setup_dirs
    args = train_args(tiny_model_dir, data, tmp_path / "run")
    assert rlvr_train(args, fault=point).returncode == -9
    done = rlvr_train(args + ["--resume", str(tmp_path / "run")])
    assert done.returncode == 0, done.stderr[-2000:]
    _same_as_reference(tmp_path / "run", ref)


@pytest.mark.parametrize("seed", [0, 1])
def test_kill_at_random_moments(tmp_path, tiny_model_dir, setup_dirs, seed):
    data, ref = setup_dirs
    rng, run_dir = random.Random(seed), tmp_path / "run"
    args = train_args(tiny_model_dir, data, run_dir)
    for attempt in range(12):
        proc = subprocess.Popen([sys.executable, "-m", "rlvr.cli", "train", *args,
                                 *(["--resume", str(run_dir)] if attempt else [])],
                                env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if proc.wait(timeout=rng.uniform(4, 14)) == 0:
                break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert (run_dir / "final").is_dir()
    _same_as_reference(run_dir, ref)


def test_soak_script_short(tmp_path):
    out = tmp_path / "soak.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak_resume.py"), "--steps", "30",
                    "--every", "3", "--min-delay", "0.2", "--max-delay", "3", "--max-seconds",
                    "400", "--out", str(out)], check=False, timeout=900)
    assert json.loads(out.read_text())["passed"]
