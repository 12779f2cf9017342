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
from rlvr.trainer import loop, trainer
from rlvr.runs.checkpoint import newest_valid

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
    """Hooks on the policy: nan logits in training forwards (on the LM head, which the
    packed and the padded forward both call), a nan gradient, or an OOM in
    backward, at the given steps."""
    current = {"step": -1}
    train_step, load_policy = loop.train_step, trainer.load_policy

    def step(t, index):
        current["step"] = index
        return train_step(t, index)

    def forward_hook(module, args, output):  # on the LM head: every forward path calls it
        if module.training and current["step"] in nan_loss:
            return output * NAN
        return output

    def grad_hook(grad):
        if current["step"] in oom:
            raise torch.OutOfMemoryError("injected: CUDA out of memory (test)")
        return grad * NAN if current["step"] in nan_grad else grad

    def load(cfg):
        policy = load_policy(cfg)
        policy.model.lm_head.register_forward_hook(forward_hook)
        next(policy.model.parameters()).register_hook(grad_hook)
        return policy

    monkeypatch.setattr(loop, "train_step", step)
    monkeypatch.setattr(trainer, "load_policy", load)


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
    data = tmp_path / "d.jsonl"  # answers of 9 digits: out of reach of 4 new tokens
    data.write_text("".join(json.dumps({"prompt": f"{i} + {i} = ?", "reference": "123456789"})
                            + "\n" for i in range(6)))
    run_dir = tmp_path / "run"
    loop.train(_cfg(tiny_model_dir, data, run_dir, "steps=2",
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


def _scored_groups(texts: list[str], group_size: int, share: float):
    from types import SimpleNamespace

    from rlvr.configs.reward import RewardConfig
    from rlvr.rewards.pipeline import RewardPipeline
    from rlvr.trainer.guards import mask_invalid_rewards
    from rlvr.types import Group, Sample, TaskRow

    cfg = RewardConfig.model_validate({"terms": [{"name": "python", "path": "reward_toy:weird"}],
                                       "pool": {"workers": 1}, "max_infra_error_share": share})
    groups = []
    for start in range(0, len(texts), group_size):
        row = TaskRow(f"r{start}", "p", "1")
        groups.append(Group(row=row, samples=[Sample(row, [5, 6], [7, 8], [-1.0, -1.0], "stop", t)
                                              for t in texts[start:start + group_size]]))
    with RewardPipeline(SimpleNamespace(verify=None), cfg) as pipeline:
        counts = pipeline.score(groups)
    counts.update(mask_invalid_rewards(groups))
    return groups, counts


def test_f11_malformed_rewards_are_masked_and_never_reach_advantages():
    from rlvr.algorithms import build_algorithm
    from rlvr.configs.algorithm import AlgorithmConfig
    from rlvr.trainer.batch import build_train_batch

    kinds = ["nan", "inf", "-inf", "huge", "none", "string", "list", "12"]
    groups, counts = _scored_groups(kinds, 4, share=1.0)
    assert counts["reward/invalid"] == 4  # nan / inf / -inf / 1e30: unscorable, counted
    assert counts["outcome/infra_error"] == 3  # None / str / list: not a RewardResult
    assert counts["outcome/scored"] == 1
    batch, _ = build_train_batch(groups, build_algorithm(AlgorithmConfig()), 0)
    assert torch.isfinite(batch.advantages_N).all()
    assert batch.completion_mask_NT[:7].sum() == 0  # the bad samples leave the loss


def test_f12_one_raising_sample_of_64_is_an_infra_error_and_the_batch_continues():
    from rlvr.rewards.errors import RewardInfraError

    groups, counts = _scored_groups(["raise"] + ["7"] * 63, 8, share=0.25)
    assert counts["outcome/infra_error"] == 1 and counts["outcome/scored"] == 63
    assert groups[0].samples[0].reward.error.startswith("verifier raised RuntimeError")
    with pytest.raises(RewardInfraError, match=r"17 of 64 samples \(27%\)"):
        _scored_groups(["raise"] * 17 + ["7"] * 47, 8, share=0.25)


def test_f18_broken_rows_are_quarantined_and_the_run_starts(tmp_path, tiny_model_dir, capsys):
    from rlvr.cli import main

    data = tmp_path / "d.jsonl"
    good = write_task(tmp_path / "good.jsonl", train_rows=8).read_text()
    data.write_text('{"prompt": "no reference"}\n{"prompt": \n' + good)
    run_dir = tmp_path / "run"
    loop.train(_cfg(tiny_model_dir, data, run_dir, "steps=1",
                    "reliability.max_quarantined_share=0.25"))
    report = json.loads((run_dir / "quarantine.json").read_text())
    assert report["quarantined_rows"] == 2
    assert [(r["row"], r["reason"][:18]) for r in report["rows"]] == [
        (1, "missing field 'ref"), (2, "not valid JSON (Ex")]
    assert report["files"][str(data)] == {"rows": 12, "quarantined": 2}
    assert len(_metrics(run_dir)) == 1
    code = main(["train", f"model.name={tiny_model_dir}", "task.kind=file", f"task.path={data}",
                 "task.eval_size=2", f"log.run_dir={tmp_path / 'run2'}",
                 "reliability.max_quarantined_share=0.1"])
    assert code == 2
    assert "2 of 12 rows (17%) are broken, above reliability.max_quarantined_share=0.1" in \
        capsys.readouterr().err
