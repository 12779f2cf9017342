"""Nested state (optimizer / scheduler / RNG state dicts) as JSON plus a safetensors file.

``encode(obj)`` returns a JSON-able tree in which every tensor is replaced by a reference into a
flat ``{key: tensor}`` dict; ``decode`` reverses it. Tuples, non-string dict keys (the optimizer's
integer parameter ids) and numpy arrays survive the round trip; floats round-trip exactly (JSON
writes ``repr``), including nan and inf. No pickle is involved, so loading a checkpoint can never
execute code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_MARKERS = ("__tensor__", "__tuple__", "__dict__", "__ndarray__")


class StateEncodeError(TypeError):
    """A value in a state dict has a type the checkpoint format does not store."""


def encode(obj: Any, tensors: dict[str, torch.Tensor], path: str = "s") -> Any:
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu().contiguous()
        shared = any(t.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr()
                     for t in tensors.values()) if tensor.numel() else False
        tensors[path] = tensor.clone() if shared else tensor  # safetensors refuses aliasing
        return {"__tensor__": path}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and k not in _MARKERS for k in obj):
            return {k: encode(v, tensors, f"{path}.{k}") for k, v in obj.items()}
        return {"__dict__": [[encode(k, tensors, f"{path}.k{i}"), encode(v, tensors, f"{path}.{i}")]
                             for i, (k, v) in enumerate(obj.items())]}
    raise StateEncodeError(f"state at {path!r}: cannot store a {type(obj).__name__} in a checkpoint")


def decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__tuple__" in obj:
        return tuple(decode(v, tensors) for v in obj["__tuple__"])
    if "__ndarray__" in obj:
        return np.asarray(obj["__ndarray__"], dtype=obj["dtype"])
    if "__dict__" in obj:
        return {_hashable(decode(k, tensors)): decode(v, tensors) for k, v in obj["__dict__"]}
    return {k: decode(v, tensors) for k, v in obj.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key
