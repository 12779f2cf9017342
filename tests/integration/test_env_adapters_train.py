"""A tiny model trains 2 steps in a 2-turn environment written for verifiers (defined here with
its real base classes), loaded by ``env.name=verifiers env.load=module:attr``."""

from __future__ import annotations

import importlib.util
import json

import pytest

from rlvr import cli
from test_env_train import TINY_RUN

if importlib.util.find_spec("verifiers") is None:
    pytest.skip("verifiers not installed: pip install 'rlvr[verifiers]'", allow_module_level=True)

import verifiers.v1 as vf  # noqa: E402


class DigitsTask(vf.Task):
    @vf.reward
    async def digits(self, task, trace) -> float:
        """Share of digits in the last reply: smooth, so a random model's group varies."""
        reply = trace.last_reply
        return sum(c.isdigit() for c in reply) / max(len(reply), 1)


class AgainEnv(vf.Env):
    """The model answers, is asked once to answer again in digits only, and that reply is
    scored."""

    TASK = DigitsTask

    async def run(self, task, agents):
        async with agents.player.interaction(task) as it:
            await it.turn()
            await it.turn("Again, digits only.")


def test_verifiers_env_trains_two_steps(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    run = [o for o in TINY_RUN if not o.startswith("steps=")]
    code = cli.main(["train", f"model.name={tiny_model_dir}", f"log.run_dir={run_dir}", *run,
                     "steps=2", "env.name=verifiers", "env.load=test_env_adapters_train:AgainEnv",
                     "env.max_turns=2", "env.max_total_tokens=200"])
    assert code == 0
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1]
    for m in lines:
        assert m["episode/turns_mean"] == 2.0  # the env asks once more; no limit cut it
        assert m["episode/ended_done_share"] == 1.0 and m["loss"] == m["loss"]
        assert m["outcome/infra_error_total"] == 0.0 and 0.0 <= m["reward/digits"] <= 1.0
    samples = [json.loads(l) for l in (run_dir / "samples.jsonl").read_text().splitlines()]
    for s in samples:  # the env's reward, not the task's verifier
        assert s["verdict"] == "verifiers" and set(s["components"]) == {"digits"}
        reply = s["completion"].strip()  # the last model turn, as trace.last_reply sees it
        assert s["reward"] == pytest.approx(sum(c.isdigit() for c in reply) / max(len(reply), 1))
    env_turns = [seg["text"] for s in samples for seg in s["transcript"] if seg["source"] == "env"]
    assert env_turns and all("Again, digits only." in t for t in env_turns)
