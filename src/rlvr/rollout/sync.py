"""Weight sync between the trainer and a rollout engine, as a registry (``rollout.sync.name``).

* ``inprocess``: nothing to copy; the engine decodes the trainer's own model.
* ``filesystem``: the HF-named weights as one safetensors file per version, written atomically
  (temporary name, then rename), a ``ready`` marker after it and a ``done`` marker from the
  engine once it loaded them (the shape of a shared-disk handoff to another machine).
* ``broadcast`` (rollout/sync_broadcast.py): a bucketed ``torch.distributed`` broadcast over a
  group of its own (gloo on CPU, NCCL on CUDA).

Each sync has two halves. The trainer's ``Sender``: ``prepare(named, version)`` stages the
weights and returns a *ticket* (plain data, sent to the engine over its control channel), then
``transfer(ticket)`` moves them and returns the bytes sent. The engine's receiver (built from
``sender.receiver_spec()``, plain data too): ``receive(ticket, apply)`` gets the tensors, calls
``apply(named)`` and confirms. Every wait is bounded by ``rollout.sync.timeout_s`` and raises
``WeightSyncError`` naming what it waited for.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from rlvr.rollout.engine import NamedTensors

Ticket = dict[str, Any]
Apply = Callable[[dict[str, torch.Tensor]], None]


class WeightSyncError(RuntimeError):
    """A weight sync that failed or timed out; the message names the peer or file."""


class TrainerWeights:
    """The trainer's weights under their HF names, for ``engine.sync_weights``: each storage
    once (a tied LM head shares the embedding; the first name is kept). A LoRA policy yields
    merged weights W + (alpha / r) B A from a plain full-precision copy refreshed at each call
    (the engine has no adapters). Lazy: an in-process sync never reads them, and the copy is
    only built when they are read."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self._merged: Any = None

    def __call__(self) -> Iterator[tuple[str, torch.Tensor]]:
        from rlvr.models.lora import is_lora

        model = self.policy.model
        if is_lora(model):
            if self._merged is None:
                from rlvr.rollout.inference_copy import InferenceCopy

                self._merged = InferenceCopy(model, None)  # refreshes on construction
            else:
                self._merged.refresh()
            model = self._merged.model
        seen: set[int] = set()
        for name, tensor in model.state_dict().items():
            if tensor.data_ptr() in seen:
                continue
            seen.add(tensor.data_ptr())
            yield name, tensor.detach()


def load_named(model: torch.nn.Module, named: dict[str, torch.Tensor]) -> None:
    """Copy ``named`` into ``model``'s tensors of the same names (bit for bit); every storage
    of the model must be covered and every name must exist with the same shape."""
    own = model.state_dict()
    unknown = sorted(set(named) - set(own))
    if unknown:
        raise WeightSyncError(f"weight sync: the engine's model has no weight {unknown[0]!r}")
    covered = {own[name].data_ptr() for name in named}
    missing = [n for n, t in own.items() if t.data_ptr() not in covered]
    if missing:
        raise WeightSyncError(f"weight sync: no tensor was sent for {missing[0]!r}")
    with torch.no_grad():
        for name, tensor in named.items():
            if own[name].shape != tensor.shape:
                raise WeightSyncError(f"weight sync: {name!r} has shape {tuple(tensor.shape)}, "
                                      f"the engine's {tuple(own[name].shape)}")
            own[name].copy_(tensor)


def nbytes(tensors: Any) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def wait_for(path: Path, timeout_s: float, what: str) -> None:
    """Wait until ``path`` exists, at most ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    delay = 0.001
    while not path.exists():
        if time.monotonic() > deadline:
            raise WeightSyncError(f"weight sync: timed out after {timeout_s:g}s waiting for "
                                  f"{path} ({what})")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class InProcessSender:
    """Nothing to copy: the engine decodes the trainer's model."""

    def __init__(self, cfg: Any, run_dir: Path | None = None, device: Any = "cpu",
                 peer: str = "the engine") -> None:
        self.cfg = cfg

    def receiver_spec(self) -> dict[str, Any]:
        return {"name": "inprocess"}

    def prepare(self, named: NamedTensors, version: int) -> Ticket:
        return {"name": "inprocess", "version": version}

    def transfer(self, ticket: Ticket) -> int:
        return 0

    def close(self) -> None:
        """Nothing to release."""


class FilesystemSender:
    """Writes ``DIR/v<version>/model.safetensors`` then ``ready``; waits for the engine's
    ``done``; keeps only the newest version on disk."""

    def __init__(self, cfg: Any, run_dir: Path | None = None, device: Any = "cpu",
                 peer: str = "the engine") -> None:
        if cfg.dir is None and run_dir is None:
            raise ValueError("rollout.sync.name=filesystem needs rollout.sync.dir (no run dir)")
        self.root = Path(cfg.dir) if cfg.dir is not None else Path(run_dir) / "weight_sync"
        self.timeout_s = cfg.timeout_s
        self.peer = peer
        self.root.mkdir(parents=True, exist_ok=True)

    def receiver_spec(self) -> dict[str, Any]:
        return {"name": "filesystem", "dir": str(self.root), "timeout_s": self.timeout_s}

    def prepare(self, named: NamedTensors, version: int) -> Ticket:
        from safetensors.torch import save_file

        tensors = {name: t.contiguous().cpu() for name, t in named}
        folder = self.root / f"v{version:08d}"
        if folder.exists():  # a resumed run re-sends a version: start it afresh
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        tmp = folder / "model.safetensors.tmp"
        save_file(tensors, str(tmp), metadata={"version": str(version)})
        os.replace(tmp, folder / "model.safetensors")
        size = nbytes(tensors.values())
        write_atomic(folder / "ready", json.dumps({"version": version, "bytes": size}))
        return {"name": "filesystem", "version": version, "folder": str(folder), "bytes": size}

    def transfer(self, ticket: Ticket) -> int:
        folder = Path(ticket["folder"])
        wait_for(folder / "done", self.timeout_s,
                 f"{self.peer} to confirm it loaded version {ticket['version']}")
        for old in self.root.glob("v*"):
            if old.is_dir() and old != folder:
                shutil.rmtree(old, ignore_errors=True)
        return ticket["bytes"]

    def close(self) -> None:
        """The files stay for inspection until the next run's first sync replaces them."""


class FilesystemReceiver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.timeout_s = spec["timeout_s"]

    def receive(self, ticket: Ticket, apply: Apply) -> None:
        from safetensors.torch import load_file

        folder = Path(ticket["folder"])
        wait_for(folder / "ready", self.timeout_s,
                 f"the trainer's ready marker of version {ticket['version']}")
        apply(load_file(str(folder / "model.safetensors")))
        write_atomic(folder / "done", json.dumps({"version": ticket["version"]}))

    def close(self) -> None:
        """Nothing to release."""


def _broadcast(kind: str) -> Any:
    from rlvr.rollout import sync_broadcast

    return getattr(sync_broadcast, kind)


SYNCS: dict[str, tuple[Any, Any]] = {
    "inprocess": (InProcessSender, None),
    "filesystem": (FilesystemSender, FilesystemReceiver),
    "broadcast": (lambda *a, **k: _broadcast("BroadcastSender")(*a, **k),
                  lambda spec: _broadcast("BroadcastReceiver")(spec)),
}
"""Sync name (``rollout.sync.name``) -> (trainer-side sender, engine-side receiver)."""


def build_sender(cfg: Any, run_dir: Path | None, device: Any, peer: str) -> Any:
    if cfg.name not in SYNCS:
        raise ValueError(f"unknown rollout.sync.name {cfg.name!r}; registered: {', '.join(SYNCS)}")
    return SYNCS[cfg.name][0](cfg, run_dir, device, peer)


def build_receiver(spec: dict[str, Any]) -> Any:
    receiver = SYNCS[spec["name"]][1]
    if receiver is None:
        raise ValueError(f"weight sync {spec['name']!r} has no engine side")
    return receiver(spec)
