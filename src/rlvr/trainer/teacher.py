"""The frozen teacher of on-policy distillation (``algorithm.distill``), the reference policy's
sibling: loaded once at setup without gradients, on the student's device and autocast, it
scores the student's sampled completions once per batch at the sampling temperature."""

from __future__ import annotations

from pathlib import Path

import torch

from rlvr.configs.base import ConfigError
from rlvr.configs.distill import DistillConfig
from rlvr.configs.run import ModelConfig
from rlvr.models import embedded
from rlvr.models.from_checkpoint import find_checkpoint
from rlvr.models.loader import Policy, load_policy
from rlvr.trainer.reference import frozen_logprobs
from rlvr.types import TrainBatch


class Teacher:
    """A frozen model (eval mode, ``requires_grad`` off) with the student's tokenizer."""

    def __init__(self, policy: Policy, name: str) -> None:
        self.policy = policy
        self.name = name
        self.model = policy.model.eval().requires_grad_(False)

    def logprobs(self, batch: TrainBatch, micro_batch_size: int,
                 temperature: float) -> torch.Tensor:
        """teacher logprobs_NT of the completion tokens, in micro-batches (a batch with
        ``temperature_N`` is scored at each row's own temperature, as the student is)."""
        return frozen_logprobs(self.policy, self.model, batch, micro_batch_size, temperature)


def tokenizer_mismatch(student, teacher) -> str | None:
    """Where two tokenizers differ (the first differing token id, else the first differing
    special token), or None when vocabularies and special tokens are the same."""
    s_vocab, t_vocab = student.get_vocab(), teacher.get_vocab()
    if s_vocab != t_vocab:
        s_ids = {i: tok for tok, i in s_vocab.items()}
        t_ids = {i: tok for tok, i in t_vocab.items()}
        first = min(i for i in s_ids.keys() | t_ids.keys() if s_ids.get(i) != t_ids.get(i))
        return (f"token id {first} is {s_ids.get(first, '<none>')!r} for the student, "
                f"{t_ids.get(first, '<none>')!r} for the teacher (vocab sizes {len(s_vocab)} "
                f"and {len(t_vocab)})")
    s_special, t_special = student.special_tokens_map, teacher.special_tokens_map
    for key in sorted(s_special.keys() | t_special.keys()):
        if s_special.get(key) != t_special.get(key):
            return (f"special token {key} is {s_special.get(key)!r} for the student, "
                    f"{t_special.get(key)!r} for the teacher")
    s_all, t_all = set(student.all_special_tokens), set(teacher.all_special_tokens)
    if s_all != t_all:  # extra special tokens (chat markers) are not in the map above
        first = min(s_all ^ t_all, key=lambda tok: s_vocab.get(tok, len(s_vocab)))
        owner = "student" if first in s_all else "teacher"
        return f"special token {first!r} is special for the {owner} only"
    return None


def local_problem(name: str) -> str | None:
    """Why a teacher named as a local path cannot be a model, without asking the hub; None for
    an embedded name, a hub id, or a directory that may hold a model or a checkpoint."""
    path = Path(name).expanduser()
    if name in embedded.EMBEDDED or not (path.is_absolute() or name.startswith((".", "~"))
                                         or path.exists()):
        return None
    if not path.is_dir():
        return f"no such directory {path}"
    if not (path / "config.json").is_file() and find_checkpoint(str(path)) is None:
        return f"{path} holds neither a Hugging Face model (config.json) nor an rlvr checkpoint"
    return None


def load_teacher(cfg: DistillConfig, model_cfg: ModelConfig, student: Policy) -> Teacher:
    """The teacher on the student's device and autocast, in ``cfg.dtype`` (default: the
    student's). A teacher that does not load, or whose tokenizer differs from the student's,
    is a ``ConfigError``: one line, before any training step."""
    plain = model_cfg.model_copy(update={"name": cfg.teacher, "lora": None,
                                         "dtype": cfg.dtype or model_cfg.dtype})
    try:
        problem = local_problem(cfg.teacher)
        if problem is not None:
            raise ValueError(problem)
        policy = load_policy(plain)
    except (OSError, ValueError, RuntimeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"algorithm.distill.teacher={cfg.teacher!r}: cannot load the teacher "
                          f"({first})") from None
    problem = tokenizer_mismatch(student.tokenizer, policy.tokenizer)
    if problem is not None:
        raise ConfigError(f"algorithm.distill.teacher={cfg.teacher!r}: its tokenizer differs "
                          f"from the student {model_cfg.name!r}'s: {problem}")
    return Teacher(policy, cfg.teacher)


def build_teacher(cfg: DistillConfig | None, model_cfg: ModelConfig,
                  student: Policy) -> Teacher | None:
    """None when distillation is off: then no teacher weights are loaded at all."""
    return None if cfg is None else load_teacher(cfg, model_cfg, student)


def teacher_scorer(teacher: Teacher | None, settings):
    """The advantage stage's ``teacher_logprobs(batch)`` callable (None without distillation)."""
    if teacher is None:
        return None
    return lambda batch: teacher.logprobs(batch, settings.micro_batch_size, settings.temperature)
