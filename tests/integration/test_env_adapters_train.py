"""A tiny model trains 2 steps in a 2-turn environment written for verifiers, and in one
written for OpenEnv (both defined here with the library's real base classes), loaded by
``env.name=verifiers|openenv env.load=module:attr``. Each skips when its package is missing."""

from __future__ import annotations

import importlib.util
import json

import pytest

from rlvr import cli
from test_env_train import TINY_RUN

HAS_VF = importlib.util.find_spec("verifiers") is not None
HAS_OPENENV = importlib.util.find_spec("openenv") is not None
AGAIN = "Again, digits only."


def digit_share(text: str) -> float:
    """Share of digits in the text: smooth, so a random model's group varies."""
    text = text.strip()
    return sum(c.isdigit() for c in text) / max(len(text), 1)


if HAS_VF:
    import verifiers.v1 as vf

    class DigitsTask(vf.Task):
        @vf.reward
        async def digits(self, task, trace) -> float:
            return digit_share(trace.last_reply)

    class AgainEnv(vf.Env):
        """The model answers, is asked once to answer again in digits only, and that reply
        is scored."""

        TASK = DigitsTask

        async def run(self, task, agents):
            async with agents.player.interaction(task) as it:
                await it.turn()
                await it.turn(AGAIN)

if HAS_OPENENV:
    from openenv.core import Action, Environment, Observation, State

    class Reply(Action):
        text: str
        """The model's turn."""

    class Said(Observation):
        message: str
        """The environment's turn."""

    class AgainOpenEnv(Environment[Reply, Said, State]):
        """Turn 1 gets 'Again, digits only.'; turn 2 is scored by its digit share."""

        def reset(self, seed=None, episode_id=None, **kwargs):
            self._state = State(episode_id=episode_id, step_count=0)
            return Said(message="")

        def step(self, action, timeout_s=None, **kwargs):
            self._state.step_count += 1
            if self._state.step_count == 1:
                return Said(message=AGAIN)
            return Said(message="done", done=True, reward=digit_share(action.text))

        @property
        def state(self):
            return self._state


def train_two_steps(tiny_model_dir, run_dir, name: str, load: str) -> list[dict]:
    run = [o for o in TINY_RUN if not o.startswith("steps=")]
    code = cli.main(["train", f"model.name={tiny_model_dir}", f"log.run_dir={run_dir}", *run,
                     "steps=2", f"env.name={name}", f"env.load=test_env_adapters_train:{load}",
                     "env.max_turns=2", "env.max_total_tokens=200"])
    assert code == 0
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1]
    for m in lines:
        assert m["episode/turns_mean"] == 2.0  # the env asks once more; no limit cut it
        assert m["episode/ended_done_share"] == 1.0 and m["loss"] == m["loss"]
        assert m["outcome/infra_error_total"] == 0.0
    samples = [json.loads(l) for l in (run_dir / "samples.jsonl").read_text().splitlines()]
    for s in samples:  # the env's reward of the last model turn, not the task's verifier
        assert s["reward"] == pytest.approx(digit_share(s["completion"]))
        env_turns = [seg["text"] for seg in s["transcript"] if seg["source"] == "env"]
        assert len(env_turns) == 1 and AGAIN in env_turns[0]
    return samples


@pytest.mark.skipif(not HAS_VF, reason="verifiers not installed: pip install 'rlvr[verifiers]'")
def test_verifiers_env_trains_two_steps(tiny_model_dir, tmp_path):
    samples = train_two_steps(tiny_model_dir, tmp_path / "run", "verifiers", "AgainEnv")
    assert all(s["verdict"] == "verifiers" and set(s["components"]) == {"digits"}
               for s in samples)


@pytest.mark.skipif(not HAS_OPENENV, reason="openenv-core not installed: pip install "
                    "'rlvr[openenv]'")
def test_openenv_env_trains_two_steps(tiny_model_dir, tmp_path):
    samples = train_two_steps(tiny_model_dir, tmp_path / "run", "openenv", "AgainOpenEnv")
    assert all(set(s["components"]) == {"openenv_reward"} for s in samples)
