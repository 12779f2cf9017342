"""Full (gathered) weights and optimizer state of a sharded model, in the single-process format.

A checkpoint of an fsdp2 run holds what a one-process run would write: ``model.safetensors`` with
the Hugging Face names (a tied LM head stored once, as ``save_model`` does) and the optimizer
state keyed by parameter index. So it resumes at any world size and loads in ``rlvr eval``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict,
                                                     set_model_state_dict,
                                                     set_optimizer_state_dict)

FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)


def tied_groups(model: torch.nn.Module) -> list[list[str]]:
    """Names of one parameter held under several names (a tied LM head and the embedding),
    sorted: ``safetensors.save_model`` keeps the first of each, and so does ``full_model_state``."""
    names: dict[int, list[str]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(p), []).append(name)
    return [sorted(group) for group in names.values() if len(group) > 1]


def full_model_state(model: torch.nn.Module, drop_aliases: bool = True
                     ) -> dict[str, torch.Tensor]:
    """Collective: the full weights on rank 0 (empty elsewhere), each tied tensor once (or under
    every name: ``save_pretrained`` picks its own)."""
    state = get_model_state_dict(model, options=FULL)
    for group in tied_groups(model) if drop_aliases else []:
        for alias in group[1:]:
            state.pop(alias, None)
    return state


def hf_tied_removed(model: torch.nn.Module, state: dict[str, torch.Tensor]
                    ) -> dict[str, torch.Tensor]:
    """``state`` without the names transformers ties to another (its ``_tied_weights_keys``),
    as ``save_pretrained`` of the unsharded model writes them (gathered copies share no memory,
    so it would keep both)."""
    tied = {alias for group in tied_groups(model) for alias in group}
    drop = set(getattr(model, "_tied_weights_keys", None) or {}) & tied
    return {name: t for name, t in state.items() if name not in drop}


def load_full_model_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Collective: every rank passes the same full ``state``; each keeps its shard."""
    state = dict(state)
    for group in tied_groups(model):
        kept = next(name for name in group if name in state)
        for alias in group:
            state.setdefault(alias, state[kept])
    set_model_state_dict(model, state, options=StateDictOptions(full_state_dict=True))


def _param_names(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> list[str]:
    by_id = {id(p): n for n, p in model.named_parameters()}
    return [by_id[id(p)] for group in optimizer.param_groups for p in group["params"]]


def full_optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer
                         ) -> dict[str, Any]:
    """Collective: the full optimizer state, keyed by index as ``optimizer.state_dict()``."""
    state = get_optimizer_state_dict(model, optimizer, options=FULL)
    if not state:  # ranks other than 0 get nothing (cpu_offload)
        return {}
    index = {name: i for i, name in enumerate(_param_names(optimizer, model))}
    groups = [{**g, "params": [index[n] for n in g["params"]]} for g in state["param_groups"]]
    return {"state": {index[n]: v for n, v in state["state"].items()}, "param_groups": groups}


def load_full_optimizer_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                              state: dict[str, Any]) -> None:
    """Collective: put a full, index-keyed optimizer state into a sharded optimizer."""
    names = _param_names(optimizer, model)
    groups = [{**g, "params": [names[int(i)] for i in g["params"]]}
              for g in state["param_groups"]]
    by_name = {names[int(i)]: v for i, v in state["state"].items()}
    set_optimizer_state_dict(model, optimizer, {"state": by_name, "param_groups": groups},
                             options=StateDictOptions(full_state_dict=True))
