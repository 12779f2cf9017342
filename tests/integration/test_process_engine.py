"""The hf engine in a separate process (``hf_process``) behind the ``filesystem`` and
``broadcast`` weight syncs samples and trains exactly as the in-process ``hf`` engine on a fixed
seed, and after every sync its weights equal the trainer's bit for bit (also merged LoRA)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from faults_support import train_args, write_task

STEPS = 3


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("engine-data") / "sums.jsonl")


def _args(tiny_model_dir, task_file, run_dir: Path, extra: list[str]) -> list[str]:
    return train_args(tiny_model_dir, task_file, run_dir, steps=STEPS, every=0) + [
        "rollout.temperature=1.5", *extra]  # varied samples: a wrong RNG would show


def _samples(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]


def _reference(tiny_model_dir, task_file, run_dir: Path, extra: list[str]):
    """The in-process run, through ``train`` (the path every run takes)."""
    from safetensors.torch import load_file

    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    out = train(load_config(None, _args(tiny_model_dir, task_file, run_dir, extra)))
    return _samples(run_dir), load_file(str(Path(out["final_dir"]) / "model.safetensors"))


def _separate(tiny_model_dir, task_file, run_dir: Path, extra: list[str]):
    """The same steps with the engine in a child process; after each sync the child's weights
    are read back and compared with the trainer's."""
    from rlvr.config import load_config
    from rlvr.trainer.loop import save_final, sync_engine, train_step
    from rlvr.trainer.trainer import setup
    from safetensors.torch import load_file

    t = setup(load_config(None, _args(tiny_model_dir, task_file, run_dir, extra)))
    equal_after_sync, versions = [], []
    try:
        for step in range(STEPS):
            if step == 0:
                sync_engine(t)
            metrics = train_step(t, step)
            versions.append(metrics["policy/version"])
            assert metrics["sync/bytes"] > 0
            theirs = t.engine.engine_weights()
            equal_after_sync.append(all(torch.equal(theirs[name], ours)
                                        for name, ours in t.weights()))
        final = load_file(str(save_final(t) / "model.safetensors"))
    finally:
        t.engine.close()
        t.rewards.close()
        t.logger.close()
    assert equal_after_sync == [True] * STEPS
    assert versions == [1.0, 2.0, 3.0]  # one optimizer step per RL step here
    return _samples(run_dir), final


def _assert_same(reference, separate) -> None:
    (ref_samples, ref_weights), (samples, weights) = reference, separate
    assert samples == ref_samples
    assert {s["policy_version"] for s in samples} == {0, 1, 2}
    assert ref_weights.keys() == weights.keys()
    for name in ref_weights:
        assert torch.equal(ref_weights[name], weights[name]), name


@pytest.fixture(scope="module")
def inprocess(tmp_path_factory, tiny_model_dir, task_file):
    return _reference(tiny_model_dir, task_file, tmp_path_factory.mktemp("hf") / "run", [])


@pytest.mark.parametrize("sync", ["filesystem", "broadcast"])
def test_separate_process_engine_matches_inprocess(inprocess, tiny_model_dir, task_file,
                                                   tmp_path, sync):
    extra = ["rollout.engine=hf_process", f"rollout.sync.name={sync}", "rollout.sync.timeout_s=60"]
    _assert_same(inprocess, _separate(tiny_model_dir, task_file, tmp_path / "run", extra))
    if sync == "filesystem":  # only the newest version stays on disk, with both markers
        folders = sorted((tmp_path / "run" / "weight_sync").iterdir())
        assert [f.name for f in folders] == [f"v{STEPS:08d}"]
        assert {p.name for p in folders[0].iterdir()} == {"model.safetensors", "ready", "done"}


def test_lora_syncs_merged_weights(tiny_model_dir, task_file, tmp_path):
    """The engine has no adapters: it gets W + (alpha / r) B A; in fp32 (autocast off) the
    in-process engine decodes the same merged weights, so samples and training agree."""
    pytest.importorskip("peft")
    lora = ["model.lora={r: 4, alpha: 8}", "model.autocast=off", "optim.lr=0.05"]
    reference = _reference(tiny_model_dir, task_file, tmp_path / "hf", lora)
    separate = _separate(tiny_model_dir, task_file, tmp_path / "proc",
                         lora + ["rollout.engine=hf_process", "rollout.sync.name=filesystem"])
    _assert_same(reference, separate)


def test_a_dead_engine_process_is_an_error_naming_it(tiny_model_dir, tmp_path):
    import os
    import signal

    from rlvr.config import load_config
    from rlvr.models.loader import load_policy
    from rlvr.rollout.engine import SamplingParams, build_engine
    from rlvr.rollout.process import EngineProcessError
    from rlvr.types import TaskRow

    cfg = load_config(None, [f"model.name={tiny_model_dir}", "model.device=cpu",
                             "rollout.engine=hf_process", "rollout.sync.name=filesystem",
                             "rollout.engine.request_timeout_s=30"])
    engine = build_engine(cfg, load_policy(cfg.model), tmp_path)
    try:
        rows = [TaskRow("a", "1 + 1 = ?", "2")]
        groups = engine.generate(rows, 2, SamplingParams(3))
        assert [len(g.samples) for g in groups] == [2]
        pid = engine.process.pid
        os.kill(pid, signal.SIGKILL)
        engine.process.join(timeout=10)
        with pytest.raises(EngineProcessError, match=f"engine process \\(pid {pid}\\)"):
            engine.generate(rows, 2, SamplingParams(3))
    finally:
        engine.close()


def test_rlvr_eval_through_the_separate_process_engine(tiny_model_dir, tmp_path):
    """`rlvr eval` builds its engine through build_engine: hf_process gives the same file."""
    from rlvr.cli_eval import main

    def run(out: Path, extra: list[str]) -> dict:
        assert main(["eval", "--model", str(tiny_model_dir), "--task", "chain_sum", "--n", "2",
                     "--k", "1,2", "--prompts", "3", "--max-new-tokens", "5", "--quiet",
                     "--out", str(out), "task.train_size=10", "model.autocast='off'",
                     "reward.pool.deadline_s=120", *extra]) == 0
        return json.loads(out.read_text())

    inproc = run(tmp_path / "hf.json", [])
    separate = run(tmp_path / "proc.json", ["rollout.engine=hf_process",
                                            "rollout.sync.name=broadcast"])
    assert separate["prompts"] == inproc["prompts"] and separate["summary"] == inproc["summary"]


@pytest.mark.slow  # two more runs with a child process each (~30 s on 2 cores)
def test_a_resumed_separate_process_run_ends_as_the_inprocess_one(inprocess, tiny_model_dir,
                                                                  task_file, tmp_path):
    """A resume restores the weights after the engine was built: the trainer syncs them (at
    their version) before the first rollout, so the resumed run ends identical."""
    import shutil

    from safetensors.torch import load_file

    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    run_dir = tmp_path / "run"
    args = _args(tiny_model_dir, task_file, run_dir, ["rollout.engine=hf_process",
                                                      "rollout.sync.name=filesystem"])
    args = [a for a in args if not a.startswith("checkpoint.every")] + ["checkpoint.every=1"]
    train(load_config(None, args))
    shutil.rmtree(run_dir / "ckpt" / f"step_{STEPS:08d}")  # as if killed before the last save
    out = train(load_config(None, args), resume=True)
    assert [s["policy_version"] for s in _samples(run_dir)][-1] == STEPS - 1
    _assert_same(inprocess, (_samples(run_dir),
                             load_file(str(Path(out["final_dir"]) / "model.safetensors"))))
