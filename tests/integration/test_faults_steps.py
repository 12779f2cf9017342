"""Fault injection inside one process (research/reliability.md §4.5): non-finite steps (F10),
malformed rewards (F11, F12), broken dataset rows (F18), zero-signal batches (F19), out of
memory mid-step (F20) and a failing metrics sink (F21). Faults are injected with hooks on the
real tiny model and real files; the run itself is the production loop."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from faults_support import write_task
from rlvr.config import load_config
from rlvr.trainer import loop
from rlvr.trainer.checkpoint import newest_valid

NAN = float("nan")


def _cfg(tiny_model_dir: Path, data: Path, run_dir: Path, *overrides: str):
    return load_config(None, [
        f"model.name={tiny_model_dir}", "task.kind=file", f"task.path={data}", "task.eval_size=2",
        "steps=4", "rollout.prompts_per_step=2", "rollout.group_size=2",
        "rollout.max_new_tokens=4", "eval=null", f"log.run_dir={run_dir}", "log.tensorboard=false",
        "log.progress=false", "checkpoint.every=2", "reward.pool.workers=1", "optim.lr=0.01",
        "reward.terms=[{name: python, path: 'reward_toy:digits'}]", *overrides])


def _metrics(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _inject(monkeypatch, nan_loss=(), nan_grad=(), oom=()) -> None:
    """Hooks on the policy: nan logits in training forwards, a nan gradient, or an OOM in
    backward, at the given steps."""
    current = {"step": -1}
    train_step, load_policy = loop.train_step, loop.load_policy

    def step(t, index):
        current["step"] = index
        return train_step(t, index)

    def forward_hook(module, args, output):
        if module.training and current["step"] in nan_loss:
            output.logits = output.logits * NAN
        return output

    def grad_hook(grad):
        if current["step"] in oom:
            raise torch.OutOfMemoryError("injected: CUDA out of memory (test)")
        return grad * NAN if current["step"] in nan_grad else grad

    def load(cfg):
        policy = load_policy(cfg)
        policy.model.register_forward_hook(forward_hook)
        next(policy.model.parameters()).register_hook(grad_hook)
        return policy

    monkeypatch.setattr(loop, "train_step", step)
    monkeypatch.setattr(loop, "load_policy", load)


def test_f10_nonfinite_loss_and_gradient_are_skipped_and_counted(tmp_path, tiny_model_dir,
                                                                  monkeypatch):
    _inject(monkeypatch, nan_loss={1}, nan_grad={2})
    run_dir = tmp_path / "run"
    loop.train(_cfg(tiny_model_dir, write_task(tmp_path / "d.jsonl"), run_dir))
    rows = _metrics(run_dir)
    assert [r["nonfinite_skipped"] for r in rows] == [0.0, 1.0, 1.0, 0.0]
    assert [r["nonfinite/consecutive"] for r in rows] == [0.0, 1.0, 2.0, 0.0]
    assert rows[-1]["nonfinite/skipped_total"] == 2.0
    assert math.isnan(rows[1]["loss"]) and math.isfinite(rows[3]["loss"])
    from safetensors.torch import load_file

    for name in ("model", "optimizer"):
        saved = load_file(str(run_dir / "ckpt" / "step_00000004" / f"{name}.safetensors"))
        assert all(torch.isfinite(v).all() for v in saved.values() if v.is_floating_point())


def test_f10_abort_after_k_consecutive(tmp_path, tiny_model_dir, monkeypatch):
    from rlvr.trainer.guards import NonFiniteAbort

    _inject(monkeypatch, nan_loss={1, 2, 3})
    run_dir = tmp_path / "run"
    cfg = _cfg(tiny_model_dir, write_task(tmp_path / "d.jsonl"), run_dir, "steps=6",
               "reliability.max_consecutive_nonfinite=3")
    with pytest.raises(NonFiniteAbort, match=r"3 consecutive steps had a non-finite loss") as err:
        loop.train(cfg)
    assert "Weights finite: True; optimizer moments finite: True" in str(err.value)
    assert "'step': 1" in str(err.value) and "'step': 3" in str(err.value)
    assert newest_valid(run_dir / "ckpt")[0] == 2  # the checkpoint before the abort is intact


def test_f10_inf_reward_is_masked_not_propagated(tmp_path, tiny_model_dir):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": p, "reference": "1"}) + "\n"
                            for p in ["inf 1", "2 + 2", "inf 3", "4 + 4", "held 1", "held 2"]))
    run_dir = tmp_path / "run"
    loop.train(_cfg(tiny_model_dir, data, run_dir, "steps=2",
                    "reward.terms=[{name: python, path: 'reward_toy:infinite'}]"))
    rows = _metrics(run_dir)
    assert sum(r.get("reward/invalid", 0) for r in rows) == 4  # 2 rows x 2 samples, once each
    assert all(r["nonfinite_skipped"] == 0 and math.isfinite(r["loss"]) for r in rows)


def test_f19_zero_signal_batches_are_clean(tmp_path, tiny_model_dir):
    """The random model never answers a sum: every group has reward std 0, and dynamic sampling
    filters every group out; the step still runs with zero advantages and no NaN."""
    run_dir = tmp_path / "run"
    loop.train(_cfg(tiny_model_dir, write_task(tmp_path / "d.jsonl"), run_dir, "steps=2",
                    "reward.terms=[{name: task}]", "algorithm.group_filter={max_rounds: 2}"))
    for row in _metrics(run_dir):
        assert row["groups/batch_fill"] == 0.0 and row["nonfinite_skipped"] == 0.0
        assert math.isfinite(row["loss"]) and math.isfinite(row["grad_norm"])


def test_f20_oom_aborts_cleanly_and_resume_works(tmp_path, tiny_model_dir, monkeypatch, capsys):
    from rlvr.cli import main

    _inject(monkeypatch, oom={3})
    run_dir = tmp_path / "run"
    args = _cfg(tiny_model_dir, write_task(tmp_path / "d.jsonl"), run_dir)
    argv = ["train", f"model.name={tiny_model_dir}", f"task.path={args.task.path}",
            "task.kind=file", "task.eval_size=2", "steps=4", "rollout.prompts_per_step=2",
            "rollout.group_size=2", "rollout.max_new_tokens=4", "eval=null",
            f"log.run_dir={run_dir}", "log.tensorboard=false", "log.progress=false",
            "checkpoint.every=2", "reward.pool.workers=1"]
    assert main(argv) == 4
    assert "rlvr: aborted: OutOfMemoryError: injected" in capsys.readouterr().err
    assert newest_valid(run_dir / "ckpt")[0] == 2
    monkeypatch.undo()  # the memory pressure is gone
    assert main(["train", "--resume", str(run_dir)]) == 0
    assert [r["step"] for r in _metrics(run_dir)] == [0, 1, 2, 3]


def test_f21_metrics_sink_failure_warns_once(tmp_path, tiny_model_dir, monkeypatch, capsys):
    from torch.utils.tensorboard import SummaryWriter

    def broken(*args, **kwargs):
        raise OSError("tensorboard disk gone")

    monkeypatch.setattr(SummaryWriter, "add_scalar", broken)
    run_dir = tmp_path / "run"
    loop.train(_cfg(tiny_model_dir, write_task(tmp_path / "d.jsonl"), run_dir, "steps=3",
                    "log.tensorboard=true"))
    out = capsys.readouterr().out
    assert out.count("TensorBoard logging failed (OSError: tensorboard disk gone)") == 1
    assert [r["step"] for r in _metrics(run_dir)] == [0, 1, 2]
