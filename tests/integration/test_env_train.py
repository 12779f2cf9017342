"""A tiny model trains 3 steps in a 2-turn environment; a config without ``env`` and one with
``env.name=single_turn`` take the unchanged single-turn path."""

from __future__ import annotations

import json

from rlvr import cli
from rlvr.configs.run import RunConfig
from rlvr.envs.engine import with_env

TINY_RUN = ["steps=3", "task.train_size=40", "task.eval_size=2", "rollout.prompts_per_step=2",
            "rollout.group_size=2", "rollout.max_new_tokens=6", "log.progress=false",
            "optim.micro_batch_size=3", "eval.after=false"]


def test_two_turn_try_again_trains_three_steps(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    code = cli.main(["train", f"model.name={tiny_model_dir}", f"log.run_dir={run_dir}", *TINY_RUN,
                     "env.name=try_again", "env.max_turns=2", "env.max_total_tokens=200"])
    assert code == 0
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1, 2]
    for m in lines:
        assert 1.0 <= m["episode/turns_mean"] <= 2.0
        assert 0.0 < m["episode/model_token_share"] < 1.0 or m["episode/turns_mean"] == 1.0
        assert m["update/loss_token_share"] <= 1.0 and m["loss"] == m["loss"]
    assert any(m["episode/turns_mean"] > 1.0 for m in lines)  # a random model is mostly wrong
    sample = json.loads((run_dir / "samples.jsonl").read_text().splitlines()[0])
    assert {seg["source"] for seg in sample["transcript"]} <= {"model", "env"}


def test_without_env_or_single_turn_the_engine_is_untouched():
    engine = object()
    for cfg in (RunConfig(), RunConfig.model_validate({"env": {"name": "single_turn"}})):
        assert with_env(engine, cfg, tokenizer=None) is engine
