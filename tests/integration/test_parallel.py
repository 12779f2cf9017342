"""Two gloo ranks on the tiny model against one process (docs/scaling.md "Several processes").

One torchrun launch trains every (ddp | fsdp2) x aggregation run of the module; the
single-process references train in this process. Then a 2-rank fsdp2 run started by
``launcher.nproc=2`` is killed (kill -9 of rank 1), resumed, and compared with the uninterrupted
2-rank run; its checkpoint loads in a 1-rank ``rlvr eval`` and a 1-rank resume.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from faults_support import write_task
from parallel_support import AGGREGATIONS, rlvr, run_args, torchrun_driver

MODES = ("ddp", "fsdp2")


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "ckpt" / "step_00000003" / "model.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model_dir) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("parallel")
    data = write_task(work / "sums.jsonl", train_rows=8)
    dirs = {}
    for agg in AGGREGATIONS:
        dirs[agg] = work / f"one-{agg}"
        from rlvr.config import load_config
        from rlvr.trainer.loop import train

        train(load_config(None, run_args(tiny_model_dir, data, dirs[agg],
                                         extra=(f"algorithm.aggregation={agg}",))))
    spec = []
    for mode in MODES:
        for agg in AGGREGATIONS:
            dirs[f"{mode}-{agg}"] = work / f"{mode}-{agg}"
            spec.append(run_args(tiny_model_dir, data, dirs[f"{mode}-{agg}"],
                                 extra=(f"algorithm.aggregation={agg}", f"trainer.parallel={mode}")))
    done = torchrun_driver(spec, work, nproc=2)
    assert done.returncode == 0, done.stderr[-4000:]
    dirs["data"], dirs["work"] = data, work
    return dirs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("agg", AGGREGATIONS)
def test_two_ranks_equal_one_process(runs, tiny_model_dir, mode, agg):
    one, two = _weights(runs[agg]), _weights(runs[f"{mode}-{agg}"])
    # fp32 reduction order after 3 AdamW steps: seen up to 1.2e-5 (seq_mean_token_sum, the
    # largest loss scale) under the per-sample sampling streams
    assert _max_diff(one, two) < 2e-5
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    moved = max(float((one[k] - initial[k]).abs().max()) for k in one if k in initial)
    assert moved > 1e-3  # the weights did move: the equality above is not vacuous
    opt_one = load_file(str(runs[agg] / "ckpt/step_00000003/optimizer.safetensors"))
    opt_two = load_file(str(runs[f"{mode}-{agg}"] / "ckpt/step_00000003/optimizer.safetensors"))
    assert _max_diff(opt_one, opt_two) < 1e-5  # AdamW moments, in the one-process format
    samples_one = (runs[agg] / "samples.jsonl").read_text()
    assert (runs[f"{mode}-{agg}"] / "samples.jsonl").read_text() == samples_one


def test_rank0_alone_logs_all_reduced_metrics(runs):
    import json

    one = [json.loads(x) for x in (runs["token_mean"] / "metrics.jsonl").read_text().splitlines()]
    two = [json.loads(x) for x in
           (runs["fsdp2-token_mean"] / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in two] == [0, 1, 2]  # one line per step: rank 1 wrote nothing
    for a, b in zip(one, two):
        for key in ("reward/mean", "accuracy", "completion/len_mean", "advantage/abs_mean",
                    "update/entropy", "grad_norm", "loss", "update/loss_token_share"):
            assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-7), key


def test_killed_two_rank_run_resumes_identical_and_loads_in_one_rank(runs, tiny_model_dir,
                                                                     tmp_path):
    run_dir = tmp_path / "killed"
    args = ["train", *run_args(tiny_model_dir, runs["data"], run_dir, every=1,
                               extra=("algorithm.aggregation=token_mean",
                                      "trainer.parallel=fsdp2", "trainer.timeout_s=60")),
            "launcher.nproc=2"]
    killed = rlvr(args, fault="backward:5", fault_rank=1)  # in step 2 (2 micro-batches a step)
    assert killed.returncode != 0
    assert "rank 1 of 2 failed" in killed.stderr, killed.stderr[-3000:]
    assert (run_dir / "ckpt" / "step_00000002").is_dir()
    assert not (run_dir / "ckpt" / "step_00000003").exists()
    resumed = rlvr(["train", "--resume", str(run_dir), "launcher.nproc=2"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _max_diff(_weights(run_dir), _weights(runs["fsdp2-token_mean"])) == 0.0
    # the 2-rank checkpoint of step 2 resumed by one process ends as the one-process run
    single = tmp_path / "single"
    shutil.copytree(run_dir, single)
    shutil.rmtree(single / "ckpt" / "step_00000003")
    from rlvr.config import load_config
    from rlvr.runs.checkpoint import list_steps
    from rlvr.trainer.loop import train

    (single / "ckpt" / "latest").unlink(missing_ok=True)
    assert [s for s, _ in list_steps(single / "ckpt")] == [2]
    train(load_config(single / "config.yaml", [f"log.run_dir={single}", "launcher.nproc=1",
                                                "trainer.parallel=none"]), resume=True)
    assert _max_diff(_weights(single), _weights(runs["token_mean"])) < 1e-5
    evaluated = rlvr(["eval", "--model", str(run_dir / "ckpt" / "step_00000003"), "--config",
                      str(run_dir / "config.yaml"), "--n", "2", "--prompts", "2", "--quiet",
                      "--out", str(tmp_path / "eval.json")])
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert (tmp_path / "eval.json").is_file()
