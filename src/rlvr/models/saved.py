"""The policy weights of a checkpoint: the full model, or for LoRA only the adapters.

``weights.json`` says which, and names the base model::

    {"format": 1, "kind": "full" | "lora", "dtype": "float32",
     "base": {"name": "<model.name>", "sha256": "<hash of the frozen base weights>" (lora)},
     "lora": {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": [...]} (lora)}

A full checkpoint holds ``model.safetensors`` (every weight). A LoRA checkpoint holds
``adapter.safetensors`` (the ``lora_`` weights only, under the peft model's names): the base
weights are frozen, so they are read again from ``base.name``, and ``base.sha256`` proves they are
the ones the adapters were trained on; any other base raises ``BaseModelMismatch``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from rlvr.models.errors import BaseModelMismatch
from rlvr.models.lora import is_lora

WEIGHTS = "weights.json"
FORMAT = 1


def _plain_name(name: str) -> str:
    """A base weight's name without the peft wrapping (the same for a plain and a LoRA model)."""
    return name.removeprefix("base_model.model.").replace(".base_layer", "")


def base_fingerprint(model: torch.nn.Module) -> str:
    """sha256 over the names, dtypes, shapes and bytes of every non-adapter weight."""
    digest = hashlib.sha256()
    params = {_plain_name(n): p for n, p in model.named_parameters() if "lora_" not in n}
    for name in sorted(params):
        tensor = params[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def adapter_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The LoRA adapter weights of a peft model, by their state-dict names."""
    return {n: t for n, t in model.state_dict().items() if "lora_" in n}


def weights_meta(model: torch.nn.Module, base_name: str, lora_cfg: Any) -> dict[str, Any]:
    """The ``weights.json`` payload of ``model`` (hashes the base weights of a LoRA model)."""
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    meta: dict[str, Any] = {"format": FORMAT, "kind": "full", "dtype": dtype,
                            "base": {"name": base_name}}
    if is_lora(model):
        meta["kind"] = "lora"
        meta["base"]["sha256"] = base_fingerprint(model)
        meta["lora"] = lora_cfg.model_dump(mode="json") if lora_cfg is not None else None
    return meta


def write_weights(model: torch.nn.Module, directory: Path, meta: dict[str, Any],
                  full_state: dict[str, torch.Tensor] | None = None) -> None:
    """``model.safetensors`` or ``adapter.safetensors`` (per ``meta['kind']``) and weights.json.
    ``full_state``: the gathered weights of a sharded model (tied aliases already dropped)."""
    if full_state is not None:
        save_file({n: t.contiguous() for n, t in full_state.items()},
                  str(directory / "model.safetensors"), metadata={"format": "pt"})
    elif meta["kind"] == "lora":
        save_file({n: t.detach().contiguous() for n, t in adapter_state(model).items()},
                  str(directory / "adapter.safetensors"))
    else:
        save_model(model, str(directory / "model.safetensors"))
    (directory / WEIGHTS).write_text(json.dumps(meta, indent=1, sort_keys=True))


def read_meta(directory: Path) -> dict[str, Any]:
    """``weights.json``; a checkpoint written before it existed is a full one, its base named by
    identity.json (``legacy``: its model.safetensors is the whole model, LoRA-wrapped or not)."""
    path = directory / WEIGHTS
    if path.is_file():
        meta = json.loads(path.read_text())
        if meta.get("format") != FORMAT or meta.get("kind") not in ("full", "lora"):
            raise ValueError(f"{path}: unknown weights format {meta.get('format')!r} / kind "
                             f"{meta.get('kind')!r} (this rlvr reads format {FORMAT}, full|lora)")
        return meta
    identity = json.loads((directory / "identity.json").read_text())
    model = identity["config"]["model"]
    return {"format": FORMAT, "kind": "full", "dtype": model["dtype"],
            "base": {"name": model["name"]}, "legacy": True}


def check_base(model: torch.nn.Module, meta: dict[str, Any], where: Path,
               base_name: str | None = None) -> None:
    """Raise BaseModelMismatch unless ``model``'s base weights are the checkpoint's base."""
    found = base_fingerprint(model)
    expected = meta["base"]["sha256"]
    if found != expected:
        raise BaseModelMismatch(
            f"{where}: this LoRA checkpoint was trained on base model {meta['base']['name']!r} "
            f"(weights sha256 {expected[:12]}), but the base loaded from "
            f"{base_name or meta['base']['name']!r} has weights sha256 {found[:12]}; load it "
            "onto the base it was trained on")


def load_weights(model: torch.nn.Module, directory: Path, base_name: str | None = None) -> None:
    """Put a checkpoint's weights into ``model`` (the run's own model: full, or LoRA-wrapped)."""
    meta = read_meta(directory)
    legacy = meta.get("legacy", False)  # model.safetensors holds the whole (wrapped) model
    if (meta["kind"] == "lora") != is_lora(model) and not legacy:
        raise ValueError(f"{directory} is a {meta['kind']} checkpoint but the model "
                         f"{'has' if is_lora(model) else 'has no'} LoRA adapters (model.lora)")
    if meta["kind"] == "full":
        missing, unexpected = load_model(model, str(directory / "model.safetensors"))
        if missing or unexpected:
            raise ValueError(f"{directory}/model.safetensors does not fit the model: missing "
                             f"{sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]}")
        return
    check_base(model, meta, directory, base_name)
    saved = load_file(str(directory / "adapter.safetensors"))
    current = adapter_state(model)
    if saved.keys() != current.keys() or any(saved[k].shape != current[k].shape for k in saved):
        raise ValueError(f"{directory}/adapter.safetensors does not fit the model's adapters "
                         f"(saved lora: {meta.get('lora')}); use the same model.lora settings")
    with torch.no_grad():
        for name, tensor in saved.items():
            current[name].copy_(tensor)
