"""Synthetic evaluation results and run directories (no model involved), shared by the unit
tests here and the Chromium integration test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rlvr.configs.eval import default_ks
from rlvr.eval.results import EvalResult, PromptRecord, save_result
from rlvr.eval.summary import summarize


def synthetic_result(model: str, correct_counts: list[int], n: int = 8, seed: int = 0,
                     task: str = "toy") -> EvalResult:
    """One prompt per entry of ``correct_counts``: c correct samples (answer "1") of n."""
    rng = np.random.default_rng(seed)
    prompts = []
    for i, c in enumerate(correct_counts):
        scores = [1.0] * c + [0.0] * (n - c)
        answers = ["1"] * c + [str(int(x)) for x in rng.integers(2, 5, size=n - c)]
        prompts.append(PromptRecord(row_id=f"{task}/{i}", scores=scores, answers=answers,
                                    finish=["stop"] * n, lengths=[10] * n,
                                    greedy_correct=c > n // 2))
    ks = default_ks(n)
    settings = {"n": n, "ks": ks}
    return EvalResult(model, task, settings, prompts, summarize(prompts, ks, resamples=200),
                      status="complete")



def write_synthetic_run(run_dir: Path, steps: int = 6) -> Path:
    """A run directory like the trainer writes: config, metrics, samples, two evaluations."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text("seed: 0\nsteps: 6\nrollout:\n  group_size: 8\n")
    with (run_dir / "metrics.jsonl").open("w") as f:
        for step in range(steps):
            f.write(json.dumps({"step": step, "reward/mean": 0.1 * step, "accuracy": 0.1 * step,
                                "entropy": 1.0 - 0.05 * step, "time/rollout": 3.0,
                                "time/update": 2.0, "grad_norm": 0.5}) + "\n")
        f.write('{"step": 6, "reward/me')  # a run killed mid-write
    with (run_dir / "samples.jsonl").open("w") as f:
        f.write(json.dumps({"step": 0, "prompt": "What is 1+1? <b>", "completion": "2 <script>",
                            "reward": 1.0}) + "\n")
    save_result(synthetic_result("base", [0, 1, 2, 8]), run_dir / "eval_before.json")
    save_result(synthetic_result("trained", [0, 4, 6, 8]), run_dir / "eval_after.json")
    return run_dir
