"""The trainer state a checkpoint holds, and how a resume puts it back.

Saved: model weights (all of them, or with LoRA only the adapters plus a fingerprint of the frozen
base: models/saved.py), optimizer (AdamW moments and step counts), LR scheduler, the step counter,
the prompt sampler's (epoch, position), every RNG (python, numpy, torch CPU and CUDA, the
minibatch-order generator), the run's counters (``counters``: non-finite skips, ...), every
object ``stateful_objects`` names (``Trainer.stateful``, ``Algorithm.stateful()`` such as the
adaptive entropy coefficient, the KL reference weights, the reward counters) and the run's identity.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from rlvr.models.lora import is_lora
from rlvr.models.saved import adapter_state, load_weights, write_weights
from rlvr.runs.faultpoints import fault_point
from rlvr.runs.state_codec import decode, encode

if TYPE_CHECKING:  # the trainer imports nothing from runs/
    from rlvr.trainer.trainer import Stateful, Trainer


def write_state(directory: Path, name: str, state: Any) -> None:
    """``name.json`` (structure) + ``name.safetensors`` (tensors)."""
    tensors: dict[str, torch.Tensor] = {}
    tree = encode(state, tensors)
    save_file(tensors, str(directory / f"{name}.safetensors"))
    (directory / f"{name}.json").write_text(json.dumps(tree, sort_keys=True))


def read_state(directory: Path, name: str) -> Any:
    tensors = load_file(str(directory / f"{name}.safetensors"))
    return decode(json.loads((directory / f"{name}.json").read_text()), tensors)


def rng_state(t: Trainer) -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state(), "generator": t.generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def load_rng_state(t: Trainer, state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    t.generator.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def trainer_state(t: Trainer, step: int, counters: dict[str, Any]) -> dict[str, Any]:
    return {"step": step, "counters": counters, "prompts": t.prompts.state(), "rng": rng_state(t),
            "scheduler": t.scheduler.state_dict(),
            "stateful": {name: obj.state_dict() for name, obj in stateful_objects(t).items()}}


class _ModuleState:
    """A model's weights as a stateful object (the KL reference after a ProRL reset)."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module

    def state_dict(self) -> dict[str, torch.Tensor]:
        if is_lora(self.module):  # its base weights are the policy's frozen ones
            return adapter_state(self.module)
        return dict(self.module.state_dict())

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if not is_lora(self.module):
            self.module.load_state_dict(state)
            return
        missing, unexpected = self.module.load_state_dict(state, strict=False)
        lost = [name for name in missing if "lora_" in name]
        if unexpected or lost:
            raise ValueError(f"saved reference adapters do not fit: missing {lost[:3]}, "
                             f"unexpected {sorted(unexpected)[:3]}")


class _CounterState:
    """Run-wide counters of the reward stage (``outcome/infra_error_total``, pool timeouts...),
    so the cumulative metrics continue across a resume instead of restarting at 0."""

    def __init__(self, rewards: Any) -> None:
        self.rewards = rewards

    def _counters(self) -> dict[str, Any]:
        pool = getattr(self.rewards, "pool", None)
        found = {"totals": getattr(self.rewards, "totals", None),
                 "pool": getattr(pool, "counts", None)}
        return {k: v for k, v in found.items() if isinstance(v, dict)}

    def state_dict(self) -> dict[str, dict[str, int]]:
        return {name: dict(counter) for name, counter in self._counters().items()}

    def load_state_dict(self, state: dict[str, dict[str, int]]) -> None:
        for name, counter in self._counters().items():
            counter.clear()
            counter.update(state.get(name, {}))


def stateful_objects(t: Trainer) -> dict[str, Stateful]:
    """Every object whose state a checkpoint holds, by name: ``t.stateful``, the algorithm's
    stateful axes (``algo.stateful()``: adaptive coefficients), the KL reference weights and the
    reward stage's run-wide counters."""
    objects: dict[str, Stateful] = dict(t.stateful)
    for name, value in t.algo.stateful().items():
        objects.setdefault(f"algo.{name}", value)
    if t.reference is not None and isinstance(getattr(t.reference, "model", None), torch.nn.Module):
        objects.setdefault("reference", _ModuleState(t.reference.model))
    if t.rewards is not None:
        objects.setdefault("rewards", _CounterState(t.rewards))
    return objects


def gather_full_state(t: Trainer) -> tuple[dict | None, dict | None]:
    """Collective under fsdp2: the full weights and optimizer state (on rank 0); (None, None)
    when every rank holds them whole."""
    if not t.dist.sharded:
        return None, None
    from rlvr.trainer.parallel_state import full_model_state, full_optimizer_state

    return full_model_state(t.policy.model), full_optimizer_state(t.policy.model, t.optimizer)


def write_trainer(t: Trainer, step: int, counters: dict[str, Any], identity: dict[str, Any],
                  weights: dict[str, Any], full: tuple[dict | None, dict | None] = (None, None)
                  ) -> Callable[[Path], None]:
    """The ``write_files`` callback of ``checkpoint.commit`` for this trainer; ``weights`` is the
    weights.json payload (``models.saved.weights_meta``, computed once per run); ``full`` what
    ``gather_full_state`` returned."""
    model_state, optimizer_state = full

    def write(directory: Path) -> None:
        write_weights(t.policy.model, directory, weights, model_state)
        fault_point("ckpt:after_model")
        write_state(directory, "optimizer", optimizer_state or t.optimizer.state_dict())
        fault_point("ckpt:after_optimizer")
        write_state(directory, "trainer", trainer_state(t, step, counters))
        (directory / "identity.json").write_text(json.dumps(identity, indent=1, sort_keys=True))
    return write


def read_identity(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "identity.json").read_text())


def restore_trainer(t: Trainer, directory: Path, reset_data: bool = False) -> dict[str, Any]:
    """Load everything back into ``t``; returns the trainer state (``step``, ``counters``...)."""
    if t.dist.sharded:  # every rank reads the full state and keeps its shard
        from rlvr.trainer.parallel_state import load_full_model_state, load_full_optimizer_state

        load_full_model_state(t.policy.model, load_file(str(directory / "model.safetensors")))
        load_full_optimizer_state(t.policy.model, t.optimizer, read_state(directory, "optimizer"))
    else:
        load_weights(t.policy.model, directory, t.cfg.model.name)  # BaseModelMismatch (LoRA)
        t.optimizer.load_state_dict(read_state(directory, "optimizer"))
    state = read_state(directory, "trainer")
    t.scheduler.load_state_dict(state["scheduler"])
    if not reset_data:
        t.prompts.load_state(state["prompts"])
    load_rng_state(t, state["rng"])
    objects = stateful_objects(t)
    for name, saved in state["stateful"].items():
        if name not in objects:
            raise ValueError(f"{directory}: saved state {name!r} has no registered owner "
                             f"(registered: {', '.join(objects) or 'none'})")
        objects[name].load_state_dict(saved)
    return state


def truncate_jsonl(path: Path, before_step: int) -> int:
    """Drop lines of ``path`` logged at ``step >= before_step`` (and a torn last line), so a
    resumed run appends each step exactly once; returns how many lines were dropped."""
    if not path.exists():
        return 0
    kept, dropped = [], 0
    for line in path.read_text(errors="replace").splitlines():
        try:
            keep = json.loads(line)["step"] < before_step
        except (ValueError, KeyError, TypeError):
            keep = False
        if keep:
            kept.append(line)
        else:
            dropped += 1
    if dropped:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        os.replace(tmp, path)
    return dropped
