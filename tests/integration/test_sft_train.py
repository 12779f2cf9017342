"""`rlvr sft` on the tiny model: an echo task whose reference is the exact answer text is
learned in a few steps (held-out SFT loss down, greedy accuracy up), in the run directory
layout of `rlvr train`; rows without a reference are quarantined, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.config import load_config
from rlvr.configs.base import ConfigError
from rlvr.trainer.sft import NO_REFERENCE, sft


def write_echo_task(path: Path, rows: int = 32, blank: int = 0) -> Path:
    """``blank`` rows without a reference first, then prompts whose answer is always "ok"."""
    with path.open("w") as fh:
        for i in range(blank):
            fh.write(json.dumps({"prompt": f"blank {i}", "reference": ""}) + "\n")
        for i in range(rows):
            fh.write(json.dumps({"prompt": f"echo ok {i}", "reference": "ok"}) + "\n")
    return path


def sft_args(model: Path, data: Path, run_dir: Path, epochs: int = 6) -> list[str]:
    return [f"model.name={model}", "model.autocast=off", "task.kind=file", f"task.path={data}",
            "task.verifier=exact", "task.eval_size=4", f"sft.epochs={epochs}",
            "sft.batch_size=7", "optim.lr=0.02", "optim.micro_batch_size=4",
            "rollout.max_new_tokens=4", f"log.run_dir={run_dir}", "log.tensorboard=false",
            "log.progress=false", "reward.pool.workers=1", "checkpoint.every=0"]


def test_sft_learns_the_echo_task_and_writes_a_train_run_directory(tmp_path, tiny_model_dir):
    data = write_echo_task(tmp_path / "echo.jsonl", blank=2)
    run_dir = tmp_path / "run"
    summary = sft(load_config(None, sft_args(tiny_model_dir, data, run_dir)))
    # 28 usable train rows (2 blank, 4 held out) -> 4 batches of 7 per epoch, 6 epochs
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(24))
    before, after = rows[0]["eval/sft_loss_before"], rows[-1]["eval/sft_loss"]
    assert after < 0.2 * before, (before, after)
    assert json.loads((run_dir / "eval_sft.json").read_text()) == {
        "sft_loss_before": before, "sft_loss_after": after}
    assert summary["before"].summary["greedy_accuracy"]["value"] == 0.0
    assert summary["after"].summary["greedy_accuracy"]["value"] == 1.0
    assert all(r["sft/tokens"] > 0 and r["grad_norm"] > 0 for r in rows)
    saved = load_config(run_dir / "config.yaml", [])
    assert saved.steps == 24 and saved.sft.epochs == 6 and saved.sft.batch_size == 7
    for path in ("eval_before.json", "eval_after.json", "ckpt/step_00000024", "final/config.json",
                 "eval_summary.txt"):
        assert (run_dir / path).exists(), path
    report = json.loads((run_dir / "quarantine.json").read_text())
    assert report["quarantined_rows"] == 2 and report["files"][str(data)]["quarantined"] == 2
    assert [(r["row"], r["reason"]) for r in report["rows"]] == [(1, NO_REFERENCE),
                                                                  (2, NO_REFERENCE)]


def test_a_task_without_any_reference_is_a_clear_error(tmp_path, tiny_model_dir):
    data = write_echo_task(tmp_path / "blank.jsonl", rows=0, blank=6)
    with pytest.raises(ConfigError, match="none of the 2 train rows of blank makes a demonstration.*no reference answer"):
        sft(load_config(None, sft_args(tiny_model_dir, data, tmp_path / "run")))


def test_rlvr_sft_command_line(tmp_path, tiny_model_dir):
    data = write_echo_task(tmp_path / "echo.jsonl", rows=12)
    run_dir = tmp_path / "cli"
    args = sft_args(tiny_model_dir, data, run_dir, epochs=1) + ["eval=null"]
    done = subprocess.run([sys.executable, "-m", "rlvr.cli", "sft", *args], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rlvr sft:" in done.stdout and f"final model (Hugging Face format): {run_dir}" in \
        done.stdout
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 2  # 8 rows / 7 per step
    bad = subprocess.run([sys.executable, "-m", "rlvr.cli", "sft", *args, "sft.epochs=0"],
                         capture_output=True, text=True, timeout=240)
    assert bad.returncode == 2 and "sft.epochs" in bad.stderr


def rl_args(model: Path, data: Path, run_dir: Path) -> list[str]:
    return [f"model.name={model}", "model.autocast=off", "task.kind=file", f"task.path={data}",
            "task.verifier=exact", "task.eval_size=4", "steps=3", "rollout.prompts_per_step=2",
            "rollout.group_size=3", "rollout.max_new_tokens=4", "optim.micro_batch_size=4",
            "algorithm.minibatches=2",
            "reward.terms=[{name: python, path: 'reward_digits:digit_share'}]",
            "reward.pool.workers=1", "eval=null", f"log.run_dir={run_dir}",
            "log.tensorboard=false", "log.progress=false", "checkpoint.every=0",
            "reliability.deterministic=true", "seed=5", "optim.lr=0.01"]


def run_rl(args: list[str]) -> tuple[list[dict], dict]:
    from safetensors.torch import load_file

    from rlvr.trainer.loop import train

    run_dir = Path(train(load_config(None, args))["run_dir"])
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return rows, load_file(str(run_dir / "final" / "model.safetensors"))


def steady(metrics: dict) -> dict:
    """A step's metrics without the wall-clock ones and the SFT term's own."""
    return {k: v for k, v in metrics.items()
            if not k.startswith(("time/", "throughput/", "update/sft_loss", "sft_mix/"))}


def test_sft_mix_trains_three_steps_and_coef_zero_is_plain_rl(tmp_path, tiny_model_dir):
    import math

    import torch

    data = write_echo_task(tmp_path / "echo.jsonl", rows=12)
    plain, plain_w = run_rl(rl_args(tiny_model_dir, data, tmp_path / "plain"))
    zero, zero_w = run_rl(rl_args(tiny_model_dir, data, tmp_path / "zero")
                          + ["algorithm.sft_mix={coef: 0.0}"])
    mixed, mixed_w = run_rl(rl_args(tiny_model_dir, data, tmp_path / "mixed")
                            + ["algorithm.sft_mix={coef: 0.5}"])
    assert all(math.isfinite(m["update/sft_loss"]) and m["update/sft_loss"] > 0 for m in mixed)
    assert all("update/sft_loss" not in m for m in plain)
    # coef 0: the term is measured and logged, and the run is plain RL bit for bit
    assert [steady(m) for m in zero] == [steady(m) for m in plain]
    assert all(torch.equal(zero_w[k], plain_w[k]) for k in plain_w)
    assert any(not torch.equal(mixed_w[k], plain_w[k]) for k in plain_w)


def test_sft_turns_replay_tool_episodes_and_train_only_the_model_turns(tmp_path, tiny_model_dir):
    """Demonstrations as episodes of the `tools` environment: a calculator call filled from
    the row, the real tool result as context, then the answer; a row missing the template's
    field is quarantined with the reason."""
    data = tmp_path / "calc.jsonl"
    with data.open("w") as fh:
        fh.write(json.dumps({"prompt": "no expression here", "reference": "1"}) + "\n")
        for i in range(11):
            fh.write(json.dumps({"prompt": f"what is {i} * 3", "reference": str(3 * i),
                                 "expr": f"{i} * 3"}) + "\n")
    call = '<tool>{"name": "calculator", "args": {"expression": "{expr}"}}</tool>'
    cfg = load_config(None, sft_args(tiny_model_dir, data, tmp_path / "run", epochs=1) + [
        "env.name=tools", "env.max_total_tokens=200", "eval=null",
        f"sft.turns=[{json.dumps(call)}, '{{reference}}']"])
    sft(cfg)
    run_dir = tmp_path / "run"
    report = json.loads((run_dir / "quarantine.json").read_text())
    assert [r["row"] for r in report["rows"]] == [1]
    assert "has no field 'expr'" in report["rows"][0]["reason"]
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1  # 7 usable rows (1 quarantined, 4 held out), 7 per step
    assert rows[0]["sft/tokens"] > 0 and rows[0]["grad_norm"] > 0
