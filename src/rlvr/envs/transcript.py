"""Token-exact transcripts: segments of model and environment tokens, and the loss mask.

The running sequence is only ever appended to. A model turn appends the ids the engine
sampled; an environment turn appends the ids of *one new chat turn* rendered on its own
(``observation_ids``). The history is never re-rendered or re-tokenized, so templates that
rewrite earlier turns (dropping ``<think>`` blocks) cannot change what was sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

_MARK = "\u2063rlvr-turn-end\u2063"
"""Stand-in assistant content: the rendered text after it is the template's turn closing."""


@dataclass(frozen=True)
class Segment:
    """A run of tokens from one source: 'model' (trained) or 'env' (context)."""

    source: Literal["model", "env"]
    ids: list[int]
    logprobs: list[float]
    text: str = ""


@dataclass
class Episode:
    """One episode after the prompt: its segments in order and its per-episode counts."""

    segments: list[Segment] = field(default_factory=list)
    turns: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    ended_by: str = ""
    """'done' (the environment ended it), 'max_turns' or 'max_total_tokens'."""

    def add(self, segment: Segment) -> None:
        if segment.ids:
            self.segments.append(segment)

    @property
    def ids(self) -> list[int]:
        return [t for s in self.segments for t in s.ids]

    @property
    def loss_mask(self) -> list[int]:
        return [int(s.source == "model") for s in self.segments for _ in s.ids]

    @property
    def logprobs(self) -> list[float]:
        """The sampler's logprobs on model tokens, 0.0 on environment tokens."""
        return [lp for s in self.segments for lp in s.logprobs]

    @property
    def num_tokens(self) -> int:
        return sum(len(s.ids) for s in self.segments)

    def to_json(self) -> list[dict]:
        """The transcript for samples.jsonl: each segment's source and text."""
        return [{"source": s.source, "text": s.text} for s in self.segments]


def _render(tokenizer: Any, messages: list[dict]) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def observation_text(tokenizer: Any, message: dict, stop_text: str | None) -> str:
    """The text to append after a model turn for one new ``message`` (role, content), up to
    and including the next assistant header.

    A two-turn dummy conversation [user, assistant(_MARK), message] is rendered; the text after
    _MARK is the template's closing of an assistant turn, then ``message``'s turn, then the
    generation prompt. When the model closed its turn with a stop token (its text
    ``stop_text``), that text is already in the sequence and is dropped from the front; after a
    truncated turn (None) the closing is appended as environment tokens."""
    if not getattr(tokenizer, "chat_template", None):  # base models: plain text turns
        return f"\n\n{message['content']}\n"
    text = _render(tokenizer, [{"role": "user", "content": "x"},
                               {"role": "assistant", "content": _MARK}, message])
    if text.count(_MARK) != 1:
        raise ValueError("observation_text: the chat template did not render the assistant "
                         "turn verbatim once; this template is not supported by the env driver")
    tail = text.split(_MARK, 1)[1]
    if stop_text and tail.startswith(stop_text):
        tail = tail[len(stop_text):]
    return tail


def observation_ids(tokenizer: Any, message: dict, stop_text: str | None
                    ) -> tuple[list[int], str]:
    """Token ids (and text) of the new observation turn, tokenized on their own."""
    text = observation_text(tokenizer, message, stop_text)
    return tokenizer(text, add_special_tokens=False)["input_ids"], text
