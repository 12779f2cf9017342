"""The in-process stand-ins that let a verifiers (0.4, ``verifiers.v1``) episode run against
rlvr's driver: verifiers drives its episode (``Env.run`` awaits ``interaction.turn``), rlvr
drives its own (``step(text)``), so the episode runs as a task on one background event loop
and each ``turn`` hands its user message out and waits for the model's text.

Only what ``Env.run`` and ``Task.score`` use is provided: ``agents.<name>.interaction(task)``,
``interaction.turn(message)`` returning a real ``Segment`` and a real ``Trace`` (messages as
graph nodes, ``record_reward``, ``info``, ``stop``). Imported only once ``verifiers`` is known
to be installed (verifiers_env.py)."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import Any

from verifiers.v1.agent import Segment
from verifiers.v1.dialects import parse_message
from verifiers.v1.graph import MessageNode
from verifiers.v1.types import AssistantMessage

_LOOP: asyncio.AbstractEventLoop | None = None
_LOCK = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    """One daemon event loop for every episode of the process (started on first use)."""
    global _LOOP
    with _LOCK:
        if _LOOP is None:
            _LOOP = asyncio.new_event_loop()
            threading.Thread(target=_LOOP.run_forever, name="rlvr-verifiers", daemon=True).start()
        return _LOOP


class Channel:
    """Events from the episode to rlvr (``ask`` with the user messages, ``done``, ``error``)
    and the model's replies back."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.events = loop, queue.Queue()
        self.reply: asyncio.Future | None = None

    def send_reply(self, text: str) -> None:
        reply = self.reply
        if reply is None:
            raise RuntimeError("verifiers episode: step() called while no turn is waiting")
        self.reply = None
        self.loop.call_soon_threadsafe(reply.set_result, text)


class Interaction:
    """One agent's exchange: every ``turn`` shows its message to the model and waits."""

    def __init__(self, trace: Any, channel: Channel, prompt: list[dict]) -> None:
        self.trace, self.channel, self.prompt = trace, channel, prompt
        self.started = False

    async def turn(self, message: Any = None) -> Any:
        """The model's reply to ``message``. rlvr rows always have a prompt: the first turn
        shows it, followed by ``message`` when the env opens with one of its own."""
        if message is None and self.started:
            raise ValueError("bare turn(): only the first turn of a prompted task is bare")
        shown = [] if message is None else _as_dicts(message)
        if not self.started:
            shown = self.prompt + shown
        self.started = True
        for m in shown:
            self._add(parse_message(m), sampled=False)
        self.channel.reply = self.channel.loop.create_future()
        self.channel.events.put(("ask", shown))
        text = await self.channel.reply
        reply = AssistantMessage(content=text)
        self._add(reply, sampled=True)
        return Segment(messages=[reply])

    def _add(self, message: Any, sampled: bool) -> None:
        parent = len(self.trace.nodes) - 1 if self.trace.nodes else None
        self.trace.nodes.append(MessageNode(message=message, parent=parent, sampled=sampled))


class Agents:
    """``agents.<any name>``: the one policy rlvr trains (a second name is refused)."""

    def __init__(self, interaction: Interaction) -> None:
        self._interaction, self._name = interaction, None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._name not in (None, name):
            raise ValueError(f"verifiers env uses agents {self._name!r} and {name!r}; rlvr "
                             "trains one policy (one agent per episode)")
        self._name = name
        return self

    @contextlib.asynccontextmanager
    async def interaction(self, task: Any, **_: Any):
        yield self._interaction
        if not self._interaction.trace.is_completed:
            self._interaction.trace.stop("user_closed")


def _as_dicts(message: Any) -> list[dict]:
    """A turn's message (a string, or messages typed or as dicts) as chat dicts."""
    if isinstance(message, str):
        return [{"role": "user", "content": message}]
    out = []
    for m in message:
        m = m if isinstance(m, dict) else m.model_dump(exclude_none=True)
        out.append({"role": m.get("role", "user"), "content": m.get("content") or ""})
    return out
