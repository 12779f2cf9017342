"""Budgets on the tiny model: a length-budget curriculum on a file task (each stage's max new
tokens bounds its completions, and a resumed run keeps the stage budget), and a wall-clock budget
that stops a 3-step run after step 1 with a checkpoint and the after-training evaluation, whose
resume counts the earlier time."""

from __future__ import annotations

import json
from pathlib import Path

from faults_support import train_args, write_task

BUDGETS = ("data.curriculum={name: steps, stages: [{max_new_tokens: 2, until_step: 2}, {}]}")


def logged(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_length_curriculum_bounds_completions_and_survives_resume(tmp_path, tiny_model_dir):
    from rlvr.config import load_config
    from rlvr.trainer.loop import train

    data, run_dir = write_task(tmp_path / "task.jsonl"), tmp_path / "run"
    args = train_args(tiny_model_dir, data, run_dir, steps=2, every=1) + [BUDGETS]
    train(load_config(None, args))  # steps 0-1: stage 0, budget 2
    args = [a for a in args if not a.startswith("steps=")] + ["steps=3"]
    train(load_config(None, args), resume=True)  # step 2: stage 1, rollout.max_new_tokens=4
    rows = logged(run_dir)
    assert [r["curriculum/max_new_tokens"] for r in rows] == [2.0, 2.0, 4.0]
    assert [r["curriculum/stage"] for r in rows] == [0.0, 0.0, 1.0]
    assert all(r["completion/len_max"] <= 2 for r in rows[:2])
    assert rows[2]["completion/len_max"] <= 4


def test_wall_budget_stops_after_the_step_in_flight(tmp_path, tiny_model_dir, capsys,
                                                    monkeypatch):
    import time

    from rlvr.config import load_config
    from rlvr.trainer import loop
    from rlvr.trainer.loop import train

    real_step = loop.train_step

    def slow_step(*args, **kwargs):  # a tiny model's step can beat 60 ms on a fast CPU
        time.sleep(0.07)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(loop, "train_step", slow_step)

    data, run_dir = write_task(tmp_path / "task.jsonl"), tmp_path / "run"
    base = [a for a in train_args(tiny_model_dir, data, run_dir, steps=3, every=0)
            if a != "eval=null"] + ["eval={before: false, after: true}"]
    out = train(load_config(None, base + ["max_wall_minutes=0.001"]))  # 60 ms: one step
    assert out["stopped"].endswith("at step 1 of 3") and len(logged(run_dir)) == 1
    state = json.loads((run_dir / "ckpt" / "step_00000001" / "trainer.json").read_text())
    first_s = state["counters"]["train_wall_s"]
    assert first_s >= 0.06
    assert (run_dir / "eval_after.json").is_file() and (run_dir / "final").is_dir()
    assert out["stopped"] in (run_dir / "eval_summary.txt").read_text()
    assert "rlvr: stopped on the wall budget" in capsys.readouterr().out
    # the earlier time already spends the budget: the resumed run stops before any step
    again = train(load_config(None, base + ["max_wall_minutes=0.001"]), resume=True)
    assert again["stopped"].endswith("at step 1 of 3") and len(logged(run_dir)) == 1
    # without a budget the run finishes; its last checkpoint holds the time of both processes
    train(load_config(None, base), resume=True)
    assert len(logged(run_dir)) == 3
    state = json.loads((run_dir / "ckpt" / "step_00000003" / "trainer.json").read_text())
    assert state["counters"]["train_wall_s"] > first_s


def test_wall_budget_stops_rlvr_sft_too(tmp_path, tiny_model_dir, monkeypatch):
    from rlvr.config import load_config
    from rlvr.trainer.sft import sft
    from rlvr.trainer.wall_budget import WallBudget

    ticks = iter(range(10**6))  # a clock that advances 1 s per reading: a tiny model's SFT
    monkeypatch.setattr(WallBudget.__init__, "__defaults__",  # step can beat any real budget
                        (0.0, lambda: float(next(ticks))))

    data, run_dir = tmp_path / "echo.jsonl", tmp_path / "run"
    data.write_text("".join(json.dumps({"prompt": f"echo ok {i}", "reference": "ok"}) + "\n"
                            for i in range(12)))
    out = sft(load_config(None, [
        f"model.name={tiny_model_dir}", "task.kind=file", f"task.path={data}",
        "task.verifier=exact", "task.eval_size=2", "sft.epochs=2", "sft.batch_size=5",
        "rollout.max_new_tokens=2", f"log.run_dir={run_dir}", "log.tensorboard=false",
        "log.progress=false", "reward.pool.workers=1", "checkpoint.every=0", "eval=null",
        "max_wall_minutes=0.001"]))  # 10 rows / 5 x 2 epochs = 4 steps; stops after 1
    assert out["stopped"].endswith("at step 1 of 4") and len(logged(run_dir)) == 1
    assert (run_dir / "ckpt" / "step_00000001").is_dir()
    assert json.loads((run_dir / "eval_sft.json").read_text())["sft_loss_after"] is not None
