"""The ``broadcast`` weight sync: the trainer (rank 0) broadcasts its weights to the engine
(rank 1) over a process group of their own, built from a TCPStore the trainer hosts, so it
never touches the trainer's own ``torch.distributed`` world (DDP / FSDP ranks).

Tensors are flattened into buckets of ``rollout.sync.bucket_mb`` MiB (one dtype per bucket):
few large collectives instead of one per tensor. The ticket tells the engine each tensor's
name, shape, dtype, bucket and offset. Backend: gloo on CPU, NCCL when the weights are on
CUDA (``rollout.sync.backend`` overrides; gloo stages CUDA weights through CPU memory). The group's timeout bounds the rendezvous and every
collective; a peer that does not answer becomes a ``WeightSyncError`` naming it.
"""

from __future__ import annotations

import datetime
from typing import Any

import torch
import torch.distributed as dist

from rlvr.rollout.engine import NamedTensors
from rlvr.rollout.sync import Apply, Ticket, WeightSyncError, nbytes

HOST = "127.0.0.1"


def pick_backend(choice: str, device: Any) -> str:
    on_cuda = torch.device(device).type == "cuda"
    if choice == "nccl" and not on_cuda:
        raise ValueError("rollout.sync.backend=nccl needs the weights on CUDA; use gloo or auto")
    if choice == "auto":
        return "nccl" if on_cuda else "gloo"
    return choice


def _group(store: Any, rank: int, backend: str, timeout_s: float) -> Any:
    timeout = datetime.timedelta(seconds=timeout_s)
    if backend == "nccl":
        options = dist.ProcessGroupNCCL.Options()
        options._timeout = timeout
        return dist.ProcessGroupNCCL(store, rank, 2, options)
    return dist.ProcessGroupGloo(store, rank, 2, timeout)


def plan_buckets(named: NamedTensors, bucket_bytes: int) -> tuple[list[dict], list[list]]:
    """Meta of every tensor and the tensors of each bucket (one dtype per bucket, a new bucket
    when the next tensor would overflow ``bucket_bytes``; a larger tensor gets one alone)."""
    meta: list[dict] = []
    buckets: list[list[torch.Tensor]] = []
    open_by_dtype: dict[torch.dtype, tuple[int, int]] = {}  # dtype -> (bucket index, bytes)
    for name, tensor in named:
        size = tensor.numel() * tensor.element_size()
        index, used = open_by_dtype.get(tensor.dtype, (-1, 0))
        if index < 0 or used + size > bucket_bytes:
            buckets.append([])
            index, used = len(buckets) - 1, 0
        offset = sum(t.numel() for t in buckets[index])
        buckets[index].append(tensor)
        open_by_dtype[tensor.dtype] = (index, used + size)
        meta.append({"name": name, "shape": list(tensor.shape), "dtype": str(tensor.dtype),
                     "bucket": index, "offset": offset, "numel": tensor.numel()})
    return meta, buckets


def _dtype(text: str) -> torch.dtype:
    return getattr(torch, text.removeprefix("torch."))


class BroadcastSender:
    def __init__(self, cfg: Any, run_dir: Any = None, device: Any = "cpu",
                 peer: str = "the engine") -> None:
        self.backend = pick_backend(cfg.backend, device)
        self.device = torch.device(device) if self.backend == "nccl" else torch.device("cpu")
        self.timeout_s = cfg.timeout_s
        self.bucket_bytes = int(cfg.bucket_mb * 2**20)
        self.peer = peer
        self.store = dist.TCPStore(HOST, 0, 2, True, timeout=datetime.timedelta(seconds=cfg.timeout_s),
                                   wait_for_workers=False)
        self.group: Any = None
        self._buckets: list[list[torch.Tensor]] = []

    def receiver_spec(self) -> dict[str, Any]:
        return {"name": "broadcast", "host": HOST, "port": self.store.port,
                "backend": self.backend, "timeout_s": self.timeout_s}

    def connect(self) -> None:
        """Join the two-member group (the engine joins at the same time)."""
        if self.group is None:
            self.group = _run(lambda: _group(self.store, 0, self.backend, self.timeout_s),
                              f"joining the broadcast group with {self.peer}", self.timeout_s)

    def prepare(self, named: NamedTensors, version: int) -> Ticket:
        meta, self._buckets = plan_buckets(named, self.bucket_bytes)
        sizes = [(str(b[0].dtype), sum(t.numel() for t in b)) for b in self._buckets]
        return {"name": "broadcast", "version": version, "meta": meta, "buckets": sizes,
                "bytes": nbytes(t for b in self._buckets for t in b)}

    def transfer(self, ticket: Ticket) -> int:
        self.connect()
        for index, bucket in enumerate(self._buckets):
            flat = torch.cat([t.reshape(-1).to(self.device) for t in bucket])
            _broadcast(self.group, flat, f"bucket {index + 1}/{len(self._buckets)} of version "
                       f"{ticket['version']} to {self.peer}", self.timeout_s)
        self._buckets = []
        return ticket["bytes"]

    def close(self) -> None:
        self.group = None


class BroadcastReceiver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.device = torch.device("cuda" if spec["backend"] == "nccl" else "cpu")
        self.store = dist.TCPStore(spec["host"], spec["port"], 2, False,
                                   timeout=datetime.timedelta(seconds=spec["timeout_s"]))
        self.group: Any = None

    def connect(self) -> None:
        if self.group is None:
            self.group = _run(lambda: _group(self.store, 1, self.spec["backend"],
                                             self.spec["timeout_s"]),
                              "joining the broadcast group with the trainer (rank 0)",
                              self.spec["timeout_s"])

    def receive(self, ticket: Ticket, apply: Apply) -> None:
        self.connect()
        flats = []
        for index, (dtype, numel) in enumerate(ticket["buckets"]):
            flat = torch.empty(numel, dtype=_dtype(dtype), device=self.device)
            _broadcast(self.group, flat, f"bucket {index + 1}/{len(ticket['buckets'])} of version "
                       f"{ticket['version']} from the trainer (rank 0)", self.spec["timeout_s"])
            flats.append(flat)
        apply({m["name"]: flats[m["bucket"]][m["offset"]:m["offset"] + m["numel"]]
               .view(m["shape"]) for m in ticket["meta"]})

    def close(self) -> None:
        self.group = None


def _broadcast(group: Any, flat: torch.Tensor, what: str, timeout_s: float) -> None:
    options = dist.BroadcastOptions()
    options.rootRank = 0
    _run(lambda: group.broadcast([flat], options).wait(datetime.timedelta(seconds=timeout_s)),
         what, timeout_s)


def _run(call: Any, what: str, timeout_s: float) -> Any:
    """``call()``, with a failure or a timeout turned into one error naming ``what``."""
    try:
        return call()
    except (RuntimeError, dist.DistError) as err:  # DistStoreError, gloo / NCCL timeouts
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise WeightSyncError(f"weight sync (broadcast): {what} failed within {timeout_s:g}s: "
                              f"{first}") from err
