"""Supervised fine-tuning on the task's reference answers: the ``sft`` section of a run
(``rlvr sft``, a cold start before RL) and ``algorithm.sft_mix`` (an SFT term inside RL)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from rlvr.configs.base import Node


class SftConfig(Node):
    """``rlvr sft``: next-token negative log-likelihood of each train row's reference, rendered
    as the assistant's reply to the chat-templated prompt (the prompt the rollout decodes from).
    The run's ``steps`` become epochs x ceil(usable rows / batch_size)."""

    epochs: int = Field(1, ge=1)
    """Passes over the train rows that have a reference (each pass in a new shuffled order)."""
    batch_size: int = Field(8, ge=1)
    """Demonstrations per optimizer step (split into optim.micro_batch_size forwards)."""
    max_target_tokens: int = Field(256, ge=1)
    """Demonstration tokens kept per row (reference + stop token); longer ones are cut, and a
    cut demonstration has no stop token to learn."""
    turns: list[str] | None = None
    """The model turns of each demonstration, as templates over the row: ``{reference}``,
    ``{prompt}`` and the row's metadata, dicts walked with dots (``{entry.metadata.expression}``
    for a reasoning-gym row); other braces are literal. With an ``env``, each demonstration
    is an episode of it: the environment answers between the turns (its tokens are context,
    not trained) and the last turn must end the episode. None: the reference is the one turn."""

    @field_validator("turns")
    @classmethod
    def _some_turns(cls, turns: list[str] | None) -> list[str] | None:
        if turns is not None and not turns:
            raise ValueError("sft.turns: give at least one turn, or null for the reference")
        return turns


class SftMixConfig(Node):
    """An SFT term added to the RL loss: coef x the token-mean NLL of the references of the
    step's prompts, one demonstration per prompt, split over the RL minibatches."""

    coef: float = Field(0.1, ge=0)
    """Weight of the SFT term; 0 computes and logs it (``update/sft_loss``) without training."""
    source: Literal["reference"] = "reference"
    """Where the demonstrations come from: 'reference' = each prompt's reference answer."""
