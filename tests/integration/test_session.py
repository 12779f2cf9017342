"""``rlvr.Session``: a loop of sample / score / forward_backward / optim_step gives the weights
``rlvr train`` gives, bit for bit (the split update equals the fused one), also across a
save and a resume; configs it cannot serve are refused with the keys named."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from faults_support import train_args, write_task
from safetensors.torch import load_file

STEPS = 3


@pytest.fixture(scope="module")
def task_file(tmp_path_factory) -> Path:
    return write_task(tmp_path_factory.mktemp("session-data") / "sums.jsonl")


def _args(model: Path, data: Path, run_dir: Path, extra: list[str] = ()) -> list[str]:
    return train_args(model, data, run_dir, steps=STEPS, every=0) + [
        "rollout.temperature=1.5", "optim.max_grad_norm=0.05", *extra]  # clipping is exercised


def _weights(final_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(final_dir / "model.safetensors"))


def _primitive_steps(s, steps: int) -> list[dict]:
    out = []
    for _ in range(steps):
        groups = s.sample()
        s.score(groups)
        metrics = s.forward_backward(groups)
        metrics.update(s.optim_step())
        out.append(metrics)
    return out


def _assert_equal(ours: dict, ref: dict) -> None:
    assert ours.keys() == ref.keys()
    for name in ref:
        assert torch.equal(ours[name], ref[name]), name


def test_session_loop_equals_rlvr_train_bit_for_bit(tiny_model_dir, task_file, tmp_path):
    import rlvr
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    ref_out = train(load_config(None, _args(tiny_model_dir, task_file, tmp_path / "ref")))
    ref = _weights(Path(ref_out["final_dir"]))
    with rlvr.Session.from_config(None, _args(tiny_model_dir, task_file, tmp_path / "s")) as s:
        metrics = _primitive_steps(s, STEPS)
        ours = _weights(s.save_final())
    assert max(m["grad_norm"] for m in metrics) > 0.05  # clipped: the weights really moved
    assert [m["policy/version"] for m in metrics] == [1.0, 2.0, 3.0]
    assert {"reward/mean", "loss", "lr", "advantage/abs_mean"} <= metrics[0].keys()
    _assert_equal(ours, ref)
    # and across a checkpoint: 2 steps, save, a new session resumes and takes the third
    run_dir = tmp_path / "resumed"
    with rlvr.Session.from_config(None, _args(tiny_model_dir, task_file, run_dir)) as s:
        _primitive_steps(s, 2)
        assert s.save().is_dir()
    with rlvr.Session.from_config(None, _args(tiny_model_dir, task_file, run_dir),
                                  resume=True) as s:
        assert s.step == 2
        _primitive_steps(s, 1)
        _assert_equal(_weights(s.save_final()), ref)


def test_session_refuses_several_optimizer_steps_per_batch(tiny_model_dir, task_file, tmp_path):
    import rlvr

    args = _args(tiny_model_dir, task_file, tmp_path / "ppo", ["algorithm.minibatches=2"])
    with rlvr.Session.from_config(None, args) as s:
        groups = s.sample()
        s.score(groups)
        with pytest.raises(ValueError, match="epochs=1 x minibatches=2"):
            s.forward_backward(groups)


def test_import_rlvr_stays_light():
    import subprocess
    import sys

    code = "import sys, rlvr; print('torch' in sys.modules); print(rlvr.Session.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "Session"]
