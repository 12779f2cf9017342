"""Config of the distributed trainer (``trainer:``) and of the process launcher (``launcher:``)
(docs/scaling.md "Several processes")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rlvr.configs.base import Node


class TrainerConfig(Node):
    parallel: Literal["none", "ddp", "fsdp2"] = "none"
    """How the ranks of a multi-process run share the model: 'ddp' keeps a full copy on every rank
    and sums the gradients once per optimizer step; 'fsdp2' shards weights, gradients and AdamW
    moments across the ranks (torch ``fully_shard``). 'none' with several ranks means 'ddp'."""
    backend: Literal["auto", "gloo", "nccl"] = "auto"
    """The torch.distributed backend: 'auto' is NCCL on CUDA, gloo on CPU."""
    timeout_s: float = Field(600.0, gt=0)
    """Every collective fails after this many seconds (a rank that died or hangs); it must exceed
    the longest stretch one rank works alone (rank 0's evaluations)."""


class LauncherConfig(Node):
    nproc: int = Field(1, ge=1)
    """Processes (ranks) ``rlvr train`` starts on this machine; 1 runs in this process. Under
    torchrun the world size comes from torchrun instead."""
