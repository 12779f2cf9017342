"""Soak test of exact resume (research/reliability.md F26, scaled down for a laptop).

Runs a tiny-model training of ``--steps`` steps uninterrupted (the reference), then the same run
under a chaos loop that ``kill -9``s the trainer at a random moment of its training (a random
delay after its first newly logged step; sometimes SIGTERM instead), resuming each time until the run completes or ``--max-seconds`` pass. Passes when the
final checkpoint's weights, optimizer moments and RNG state equal the reference bit for bit, the
metrics log holds every step exactly once with the reference's values, and the checkpoint
directory never held more than ``keep_last + 1`` checkpoints.

    .venv/bin/python benchmarks/soak_resume.py --steps 200 --every 10 --max-seconds 900
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from faults_support import env, metrics, tensors, train_args, write_task  # noqa: E402
from tiny import make_tiny_model_dir  # noqa: E402
from rlvr.hardware import cpu_facts  # noqa: E402


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rlvr.cli", "train", *args], env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_training(proc: subprocess.Popen, log: Path, limit: float = 300) -> None:
    """Until the trainer logs a new step (or exits)."""
    size = log.stat().st_size if log.exists() else -1
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        if log.exists() and log.stat().st_size != size:
            return
        time.sleep(0.05)


def _disk(run_dir: Path) -> tuple[int, int]:
    ckpt = run_dir / "ckpt"
    if not ckpt.is_dir():
        return 0, 0
    dirs = [p for p in ckpt.iterdir() if p.is_dir()]
    return len(dirs), sum(f.stat().st_size for d in dirs for f in d.rglob("*") if f.is_file())


def chaos(args: list[str], run_dir: Path, rng: random.Random, opts) -> dict:
    started, kills, terms, peak_dirs, peak_bytes = time.monotonic(), 0, 0, 0, 0
    first = True
    while time.monotonic() - started < opts.max_seconds:
        proc = _start(args if first else args + ["--resume", str(run_dir)])
        first = False
        _wait_for_training(proc, run_dir / "metrics.jsonl")  # start-up is not an interesting kill
        delay = rng.uniform(opts.min_delay, opts.max_delay)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            sig = signal.SIGTERM if rng.random() < opts.term_share else signal.SIGKILL
            proc.send_signal(sig)
            kills += sig == signal.SIGKILL
            terms += sig == signal.SIGTERM
            proc.wait(timeout=300)
        dirs, size = _disk(run_dir)
        peak_dirs, peak_bytes = max(peak_dirs, dirs), max(peak_bytes, size)
        if proc.returncode == 0 and (run_dir / "final").is_dir():
            return {"completed": True, "kills": kills, "sigterms": terms,
                    "peak_ckpt_dirs": peak_dirs, "peak_ckpt_bytes": peak_bytes,
                    "chaos_s": round(time.monotonic() - started, 1)}
        if proc.returncode not in (0, -9, -15):
            raise SystemExit(f"trainer failed with {proc.returncode}: {proc.stderr.read()[-2000:]}")
    return {"completed": False, "kills": kills, "sigterms": terms}


def compare(run_dir: Path, reference: Path, steps: int) -> dict:
    import torch

    same = {name: all(torch.equal(a, b) for a, b in zip(tensors(run_dir, steps, name).values(),
                                                         tensors(reference, steps, name).values()))
            for name in ("model", "optimizer", "trainer")}
    logged = [m["step"] for m in metrics(run_dir)]
    return {**{f"identical_{k}": v for k, v in same.items()},
            "metrics_identical": metrics(run_dir) == metrics(reference),
            "each_step_logged_once": logged == list(range(steps))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--keep-last", type=int, default=2)
    parser.add_argument("--min-delay", type=float, default=0.2)
    parser.add_argument("--max-delay", type=float, default=6.0)
    parser.add_argument("--term-share", type=float, default=0.2)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the result JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rlvr-soak-"))
    model, data = make_tiny_model_dir(work / "model"), write_task(work / "data.jsonl", 16)

    def args_for(run_dir: Path) -> list[str]:
        return train_args(model, data, run_dir, opts.steps, opts.every) + [
            f"checkpoint.keep_last={opts.keep_last}", "log.samples_every=10"]

    t0 = time.monotonic()
    ref = subprocess.run([sys.executable, "-m", "rlvr.cli", "train", *args_for(work / "ref")],
                         env=env(), capture_output=True, text=True)
    if ref.returncode:
        raise SystemExit(ref.stderr[-2000:])
    result = {"steps": opts.steps, "every": opts.every,
              "reference_s": round(time.monotonic() - t0, 1), "cpu": cpu_facts().as_dict()}
    result.update(chaos(args_for(work / "run"), work / "run", random.Random(opts.seed), opts))
    if result["completed"]:
        result.update(compare(work / "run", work / "ref", opts.steps))
        result["disk_bounded"] = result["peak_ckpt_dirs"] <= opts.keep_last + 1
    result["passed"] = bool(result["completed"] and all(
        v for k, v in result.items() if k.startswith(("identical", "metrics", "each", "disk"))))
    print(json.dumps(result, indent=1))
    if opts.out:
        opts.out.write_text(json.dumps(result, indent=1) + "\n")
    if opts.keep:
        print(f"work directory: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
