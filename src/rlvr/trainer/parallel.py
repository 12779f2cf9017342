"""The ranks of a multi-process run (docs/scaling.md "Several processes").

One ``Dist`` per process: rank, world size and every collective the trainer uses, each bounded by
``trainer.timeout_s``. With world size 1 every method is the identity, so the loop has one code path.

- ``ddp``: every rank holds the full model; the gradients are summed across ranks once per
  optimizer step (one flat all-reduce per dtype). rlvr's packed forward calls the layers piece by
  piece, so torch's ``DistributedDataParallel`` wrapper, which hooks its own ``forward``, would
  never fire; summing once per step is what it does under ``no_sync`` plus a final sync.
- ``fsdp2``: ``fully_shard`` on every module the packed forward and the decode loop call
  (norms, projections, MLPs; the embedding and the tied LM head as one group, so tied weights stay
  one tensor), then on the root. Gradients are reduce-scattered as sums (divide factor 1).
  Rollouts decode with the weights gathered (``gathered``), as each rank decodes alone.

Losses are divided by batch-global counts (``global_counts``), so the summed gradient of N ranks is
the gradient of one process over the whole batch.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist


class RankFailure(RuntimeError):
    """A collective failed: another rank died, or did not answer within the timeout."""


class Dist:
    """This process's place in the run; world size 1 without torch.distributed."""

    def __init__(self, rank: int = 0, world: int = 1, mode: str = "none",
                 timeout_s: float = 600.0, device: torch.device | None = None) -> None:
        self.rank, self.world, self.mode, self.timeout_s = rank, world, mode, timeout_s
        self.device = device or torch.device("cpu")
        self._fsdp_modules: list[Any] = []
        self.owns_group = False
        """Whether this Dist started the process group (and so ends it in ``close``)."""

    @property
    def main(self) -> bool:
        """Rank 0: the only rank that logs, writes samples and checkpoints."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    # --- collectives -----------------------------------------------------------------------
    def _call(self, name: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RuntimeError, dist.DistError) as err:
            peers = ", ".join(str(r) for r in range(self.world) if r != self.rank)
            raise RankFailure(
                f"rank {self.rank}: collective '{name}' failed (rank(s) {peers} died or did not "
                f"answer within trainer.timeout_s={self.timeout_s:g} s): {err}") from err

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """All-reduce ``tensor`` in place (sum over ranks) and return it."""
        if self.active:
            self._call("all_reduce", dist.all_reduce, tensor)
        return tensor

    def sum_floats(self, values: list[float]) -> list[float]:
        if not self.active:
            return list(values)
        # on the backend's device: NCCL reduces CUDA tensors only
        return self.sum_(torch.tensor(values, dtype=torch.float64, device=self.device)).tolist()

    def max_int(self, value: int) -> int:
        if not self.active:
            return value
        t = torch.tensor([value], dtype=torch.int64, device=self.device)
        self._call("all_reduce", dist.all_reduce, t, op=dist.ReduceOp.MAX)
        return int(t)

    def gather_objects(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (small picklable objects: groups, counters)."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world
        self._call("all_gather_object", dist.all_gather_object, out, obj)
        return out

    def cat(self, x: torch.Tensor) -> torch.Tensor:
        """Every rank's ``x`` (the same shape on every rank) concatenated along dim 0."""
        if not self.active:
            return x
        local = x.to(self.device).contiguous()
        parts = [torch.empty_like(local) for _ in range(self.world)]
        self._call("all_gather", dist.all_gather, parts, local)
        return torch.cat(parts).to(x.device)

    def barrier(self) -> None:
        if self.active:
            self._call("barrier", dist.barrier)

    def any(self, flag: bool) -> bool:
        return self.max_int(int(flag)) > 0

    # --- data ------------------------------------------------------------------------------
    def shard(self, items: list) -> list:
        """This rank's contiguous block of ``items`` (the lengths divide: checked at startup)."""
        if not self.active:
            return items
        if len(items) % self.world:
            raise ValueError(f"{len(items)} prompts do not split over {self.world} ranks")
        per = len(items) // self.world
        return items[self.rank * per:(self.rank + 1) * per]

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()

    # --- the model -------------------------------------------------------------------------
    @property
    def sharded(self) -> bool:
        return self.active and self.mode == "fsdp2"

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        """Shard ``model`` (fsdp2) or check that every rank holds the same weights (ddp)."""
        if not self.active:
            return model
        if self.mode == "fsdp2":
            self._fsdp_modules = shard_model(model, self.world, self.device)
        else:
            self._same_weights(model)
        return model

    def _same_weights(self, model: torch.nn.Module) -> None:
        """Every rank loaded the same checkpoint; rank 0's copy is broadcast all the same (a
        model initialised at random would otherwise differ)."""
        with torch.no_grad():
            for p in model.parameters():
                self._call("broadcast", dist.broadcast, p.data, 0)

    def reduce_gradients(self, model: torch.nn.Module) -> None:
        """ddp: sum the gradients over ranks (one flat all-reduce per dtype); fsdp2's hooks
        already reduce-scattered them."""
        if not self.active or self.mode == "fsdp2":
            return
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        for dtype in sorted({g.dtype for g in grads}, key=str):
            same = [g for g in grads if g.dtype == dtype]
            flat = self.sum_(torch.cat([g.reshape(-1) for g in same]))
            offset = 0
            for g in same:
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()

    @property
    def loss_scale(self) -> float:
        """fsdp2 averages gradients over ranks; the losses are divided by batch-global counts,
        so the sum is wanted: scale by the world size."""
        return float(self.world) if self.sharded else 1.0

    @contextlib.contextmanager
    def gathered(self) -> Iterator[None]:
        """fsdp2: the full weights on every rank for a stretch where ranks run different
        numbers of forwards (decoding); a no-op otherwise."""
        if not self.sharded:
            yield
            return
        for m in self._fsdp_modules:
            m.unshard()
            m.set_reshard_after_forward(False)
        try:
            yield
        finally:
            for m in self._fsdp_modules:
                m.reshard()
                m.set_reshard_after_forward(True)


def init_dist(cfg) -> Dist:
    """The run's ``Dist`` from torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR...), or a
    single-process one when WORLD_SIZE is absent or 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist(mode="none")
    rank = int(os.environ["RANK"])
    backend = resolve_backend(cfg.trainer.backend, cfg.model.device)
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()  # a caller's script may have started it (several runs)
    if owns:
        dist.init_process_group(backend,
                                timeout=datetime.timedelta(seconds=cfg.trainer.timeout_s))
    mode = "ddp" if cfg.trainer.parallel == "none" else cfg.trainer.parallel
    out = Dist(rank, world, mode, cfg.trainer.timeout_s, device)
    out.owns_group = owns
    return out


def resolve_backend(backend: str, model_device: str) -> str:
    """NCCL on CUDA, gloo on CPU (``trainer.backend: auto``)."""
    if backend != "auto":
        return backend
    cuda = model_device == "cuda" or (model_device == "auto" and torch.cuda.is_available())
    return "nccl" if cuda else "gloo"


def shard_model(model: torch.nn.Module, world: int, device: torch.device) -> list[Any]:
    """``fully_shard`` on each module rlvr's forward calls (models/fastpath.py ``Decoder``), the
    embedding and LM head together (tied or not), then the root; returns the FSDP modules."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule, fully_shard

    from rlvr.models.loader import causal_lm

    mesh = init_device_mesh(device.type, (world,))  # explicit: a CPU mesh needs it (gloo)
    lm = causal_lm(model)
    base = lm.model
    for layer in base.layers:
        attn = layer.self_attn
        leaves = [layer.input_layernorm, attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj,
                  getattr(attn, "q_norm", None), getattr(attn, "k_norm", None), layer.mlp,
                  layer.post_attention_layernorm]
        for leaf in leaves:
            if leaf is not None and any(True for _ in leaf.parameters()):
                fully_shard(leaf, mesh=mesh)
    fully_shard([base.embed_tokens, lm.lm_head], mesh=mesh)
    fully_shard(base.norm, mesh=mesh)
    fully_shard(model, mesh=mesh)
    with torch.no_grad():  # the root's lazy init, so no leaf claims to be the root
        model(input_ids=torch.zeros(1, 1, dtype=torch.long, device=device))
    return [m for m in model.modules() if isinstance(m, FSDPModule)]


def unwrap_grad_norm(norm: torch.Tensor) -> torch.Tensor:
    """``clip_grad_norm_`` of sharded (DTensor) gradients returns a DTensor: its full value."""
    return norm.full_tensor() if hasattr(norm, "full_tensor") else norm


@contextlib.contextmanager
def no_context() -> Iterator[None]:
    yield
