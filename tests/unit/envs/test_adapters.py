"""The ``verifiers`` and ``openenv`` adapters on environments written here with each library's
real base classes: a number-guessing game (multi-turn, hints, hand-computed rewards), a
single-turn task, and broken ones (a raising reward / step, NaN rewards, bad config).
Each library's tests skip, with the reason, when it is not installed (extras ``verifiers`` /
``openenv``)."""

from __future__ import annotations

import gc
import importlib.util
import math
import time

import pytest

from rlvr.configs.env import EnvConfig
from rlvr.envs.adapters.common import require
from rlvr.envs.builtin import EnvContext
from rlvr.envs.registry import env_class
from rlvr.types import TaskRow

HAS_VF = importlib.util.find_spec("verifiers") is not None
HAS_OPENENV = importlib.util.find_spec("openenv") is not None
needs_vf = pytest.mark.skipif(not HAS_VF, reason="verifiers not installed: pip install "
                              "'rlvr[verifiers]'")
needs_openenv = pytest.mark.skipif(not HAS_OPENENV, reason="openenv-core not installed: pip "
                                   "install 'rlvr[openenv]'")
ROW = TaskRow("row-7", "Guess my number (1-9).", "7")
CANCELLED: list[str] = []
CLOSED: list[str] = []


def hint(reply: str, answer: str) -> str:
    """The game's answer to a wrong guess (any text, so a random model cannot crash it)."""
    if not reply.strip().isdigit():
        return "not a number"
    return "higher" if int(reply) < int(answer) else "lower"


if HAS_VF:
    import asyncio

    import verifiers.v1 as vf

    class GuessData(vf.TaskData):
        answer: str
        """The number to guess (the rlvr row's reference)."""

    class GuessTask(vf.Task[GuessData, vf.State, vf.TaskConfig]):
        @vf.reward
        async def solved(self, task, trace) -> float:
            return float(trace.last_reply == task.answer)

    class GuessEnv(vf.Env):
        """Up to 3 guesses; each wrong one gets a hint; ``speed`` = 1 / guesses when solved."""

        TASK = GuessTask

        async def run(self, task, agents):
            guesses = 0
            async with agents.player.interaction(task) as it:
                try:
                    segment = await it.turn()
                    guesses = 1
                    while segment.last_reply != task.data.answer and guesses < 3:
                        segment = await it.turn(hint(segment.last_reply, task.data.answer))
                        guesses += 1
                except asyncio.CancelledError:
                    CANCELLED.append(task.data.id)
                    raise
            solved = segment.last_reply == task.data.answer
            it.trace.record_reward("speed", 1.0 / guesses if solved else 0.0, weight=0.5)

    class BrokenRewardTask(vf.Task[GuessData, vf.State, vf.TaskConfig]):
        @vf.reward
        async def solved(self, task, trace) -> float:
            raise KeyError("grader lost its table")

    class NanEnv(vf.Env):
        async def run(self, task, agents):
            async with agents.player.interaction(task) as it:
                await it.turn()
            it.trace.record_reward("score", float("nan"))

    class QuietEnv(vf.Env):
        async def run(self, task, agents):
            async with agents.player.interaction(task) as it:
                await it.turn()

    class QuestionData(vf.TaskData):
        question: str
        """The rlvr row's prompt."""
        answer: str
        """The rlvr row's reference."""

    class QuestionTask(vf.Task[QuestionData, vf.State, vf.TaskConfig]):
        pass

    class OpeningEnv(vf.Env):
        """Opens with a message of its own, as envs written for prompt-less tasks do."""

        TASK = QuestionTask

        async def run(self, task, agents):
            async with agents.player.interaction(task) as it:
                segment = await it.turn(f"Board for: {task.data.question}")
            it.trace.record_reward("right", float(segment.last_reply == task.data.answer))

    class TwoAgentEnv(vf.Env):
        async def run(self, task, agents):
            async with agents.solver.interaction(task) as it:
                await it.turn()
            async with agents.critic.interaction(task) as it:
                await it.turn("critique")


def vf_env(load: str, **kw):
    cfg = EnvConfig(name="verifiers", load=f"test_adapters:{load}", **kw)
    return env_class("verifiers")(EnvContext(cfg, system_prompt="Answer with one number."))


@needs_vf
def test_verifiers_multi_turn_maps_turns_hints_and_weighted_rewards():
    env = vf_env("GuessEnv")
    assert env.reset(ROW) == [{"role": "system", "content": "Answer with one number."},
                              {"role": "user", "content": "Guess my number (1-9)."}]
    first = env.step("3")
    assert not first.done and first.observation == "higher"
    assert env.step("nine").observation == "not a number"
    last = env.step("7")
    assert last.done and last.reward.outcome == "scored"
    # solved 1.0 * weight 1 + speed (1/3 guesses) * weight 0.5 = 1 + 1/6
    assert math.isclose(last.reward.score, 1.0 + 1.0 / 6.0)
    assert last.reward.components == pytest.approx({"solved": 1.0, "speed": 1.0 / 6.0})


@needs_vf
def test_verifiers_game_over_after_three_wrong_guesses_scores_zero():
    env = vf_env("GuessEnv")
    env.reset(ROW)
    assert env.step("9").observation == "lower"
    assert env.step("8").observation == "lower"
    out = env.step("1")
    assert out.done and out.reward.score == 0.0 and out.reward.components == {
        "solved": 0.0, "speed": 0.0}


@needs_vf
def test_verifiers_single_turn_task_scores_the_first_reply():
    env = vf_env("GuessTask")
    env.reset(ROW)
    out = env.step(" 7 ")
    assert out.done and out.reward.score == 1.0 and out.reward.components == {"solved": 1.0}
    wrong = vf_env("GuessTask")
    wrong.reset(ROW)
    assert wrong.step("4").reward.score == 0.0


@needs_vf
def test_verifiers_raising_reward_is_an_infra_error_and_nan_is_unscorable():
    broken = vf_env("BrokenRewardTask")
    broken.reset(ROW)
    out = broken.step("7")
    assert out.done and out.reward.outcome == "infra_error"
    assert "grader lost its table" in out.reward.error and "BrokenRewardTask" in out.reward.error
    nan = vf_env("NanEnv")
    nan.reset(ROW)
    assert nan.step("7").reward.outcome == "unscorable"


@needs_vf
def test_verifiers_env_opening_with_its_own_message_follows_the_prompt():
    env = vf_env("OpeningEnv")
    assert env.reset(ROW)[1:] == [{"role": "user", "content": "Guess my number (1-9)."},
                                  {"role": "user", "content": "Board for: Guess my number (1-9)."}]
    out = env.step("7")
    assert out.done and out.reward.score == 1.0 and out.reward.components == {"right": 1.0}


@needs_vf
def test_verifiers_without_any_reward_leaves_scoring_to_the_task_verifier():
    env = vf_env("QuietEnv")
    env.reset(ROW)
    out = env.step("7")
    assert out.done and out.reward is None


@needs_vf
def test_verifiers_second_agent_is_refused_as_an_infra_error():
    env = vf_env("TwoAgentEnv")
    env.reset(ROW)
    out = env.step("7")
    assert out.reward.outcome == "infra_error" and "one policy" in out.reward.error


@needs_vf
def test_verifiers_episode_cut_by_the_driver_is_cancelled_when_dropped():
    env = vf_env("GuessEnv")
    env.reset(TaskRow("cut-1", "Guess.", "7"))
    env.step("1")  # the driver stops here (max_turns) and drops the env
    del env
    gc.collect()
    for _ in range(100):
        if "cut-1" in CANCELLED:
            break
        time.sleep(0.02)  # the cancellation lands on the background loop's thread
    assert "cut-1" in CANCELLED


@needs_vf
def test_verifiers_bad_targets_and_rows_name_the_problem():
    with pytest.raises(ValueError, match="expected a verifiers.v1 Task or Env subclass"):
        vf_env("hint")
    with pytest.raises(ValueError, match="has no attribute 'Nope'"):
        vf_env("Nope")
    with pytest.raises(ValueError, match="env.load_kwargs for GuessTask"):
        vf_env("GuessTask", load_kwargs={"no_such_option": 1})
    env = vf_env("GuessTask")
    with pytest.raises(ValueError, match="row 'r0' as GuessData"):
        env.reset(TaskRow("r0", "Guess.", None))  # answer: str, the row has no reference


def test_adapter_config_needs_a_load_target_and_a_missing_extra_is_one_line():
    with pytest.raises(ValueError, match="env.name=verifiers needs env.load"):
        EnvConfig(name="verifiers")
    with pytest.raises(ValueError, match="expected 'module:attr'"):
        EnvConfig(name="openenv", load="my_envs.GuessEnv")
    with pytest.raises(ImportError, match=r"pip install 'rlvr\[verifiers\]'"):
        require("rlvr_no_such_package", "verifiers")


if HAS_OPENENV:
    from openenv.core import Action, Environment, Observation, State

    class GuessAction(Action):
        guess: str
        """The model's guess."""

    class GuessObservation(Observation):
        message: str
        """What the game says."""

    class GuessOpenEnv(Environment[GuessAction, GuessObservation, State]):
        """Guess ``target``; a wrong guess costs 0.25 and gets a hint, a right one earns 1."""

        def __init__(self, target: int = 7, max_guesses: int = 3):
            super().__init__()
            self.target, self.max_guesses = str(target), max_guesses
            self._state = State()

        def reset(self, seed=None, episode_id=None, **kwargs):
            self._state = State(episode_id=episode_id, step_count=0)
            return GuessObservation(message="I picked a number from 1 to 9.")

        def step(self, action, timeout_s=None, **kwargs):
            self._state.step_count += 1
            if action.guess.strip() == "boom":
                raise RuntimeError("game server fell over")
            if action.guess.strip() == self.target:
                return GuessObservation(message="right", done=True, reward=1.0)
            over = self._state.step_count >= self.max_guesses
            return GuessObservation(message=hint(action.guess, self.target), done=over,
                                    reward=-0.25)

        @property
        def state(self):
            return self._state

        def close(self):
            CLOSED.append(self._state.episode_id)

    class NanOpenEnv(GuessOpenEnv):
        def step(self, action, timeout_s=None, **kwargs):
            return GuessObservation(message="?", done=True, reward=float("nan"))

    class SilentOpenEnv(GuessOpenEnv):
        def step(self, action, timeout_s=None, **kwargs):
            return GuessObservation(message="bye", done=True)

    INSTANCE = None  # set below: an instance is refused (episodes would share it)


def openenv_env(load: str, **load_kwargs):
    cfg = EnvConfig(name="openenv", load=f"test_adapters:{load}", load_kwargs=load_kwargs)
    return env_class("openenv")(EnvContext(cfg))


@needs_openenv
def test_openenv_maps_reset_step_and_sums_step_rewards():
    env = openenv_env("GuessOpenEnv", target=5)
    assert env.reset(ROW) == [{"role": "user", "content": "Guess my number (1-9).\n\n"
                                                          "I picked a number from 1 to 9."}]
    first = env.step("2")
    assert not first.done and first.observation == "higher" and first.tool_calls == 1
    bad = env.step('{"guess": "3", "hint": true}')  # a JSON object with an unknown field
    assert not bad.done and bad.tool_errors == 1 and bad.observation.startswith(
        "invalid action: GuessAction: hint: Extra inputs")
    last = env.step('{"guess": "5"}')
    assert last.done and last.reward.outcome == "scored"
    assert last.reward.score == 0.75 and last.reward.components == {"openenv_reward": 0.75}
    del env
    gc.collect()
    assert "row-7" in CLOSED  # the driver dropped the episode: the environment is closed


@needs_openenv
def test_openenv_done_at_its_own_limit_and_without_a_reward_defers_to_the_verifier():
    env = openenv_env("GuessOpenEnv", max_guesses=2)
    env.reset(ROW)
    env.step("1")
    out = env.step("9")
    assert out.done and out.reward.score == -0.5  # two wrong guesses at -0.25
    silent = openenv_env("SilentOpenEnv")
    silent.reset(ROW)
    out = silent.step("1")
    assert out.done and out.reward is None


@needs_openenv
def test_openenv_raising_step_is_an_infra_error_and_nan_is_unscorable():
    env = openenv_env("GuessOpenEnv")
    env.reset(ROW)
    out = env.step("boom")
    assert out.done and out.reward.outcome == "infra_error"
    assert "GuessOpenEnv.step: RuntimeError: game server fell over" in out.reward.error
    nan = openenv_env("NanOpenEnv")
    nan.reset(ROW)
    assert nan.step("1").reward.outcome == "unscorable"


@needs_openenv
def test_openenv_refuses_instances_and_non_environments():
    global INSTANCE
    INSTANCE = GuessOpenEnv()
    with pytest.raises(ValueError, match="name an Environment class or a factory"):
        openenv_env("INSTANCE")
    with pytest.raises(ValueError, match="gave str, not an openenv.core.Environment"):
        openenv_env("hint", reply="1", answer="2")
