"""Prompt rendering: the only place that knows the chat format."""

from __future__ import annotations

from typing import Any

from rlvr.types import TaskRow


def build_messages(row: TaskRow, system_prompt: str | None, instruction: str | None) -> list[dict]:
    content = row.prompt if not instruction else f"{row.prompt}\n{instruction}"
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": content}]


def render_prompt_ids(tokenizer: Any, row: TaskRow, system_prompt: str | None,
                      instruction: str | None) -> list[int]:
    """Token ids of the chat-formatted prompt with the assistant turn opened.

    Tokenizers without a chat template (base models) get ``prompt\\n`` plain text after the
    tokenizer's own special tokens (BOS).
    """
    messages = build_messages(row, system_prompt, instruction)
    if getattr(tokenizer, "chat_template", None):  # the template writes any BOS itself
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    text = "\n\n".join(m["content"] for m in messages) + "\n"
    return tokenizer(text, add_special_tokens=True)["input_ids"]  # base models expect their BOS
