"""What a multi-process run must satisfy, checked before any model loads (one line each)."""

from __future__ import annotations

import os

from rlvr.configs.base import ConfigError


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def world_size(cfg) -> int:
    """torchrun's WORLD_SIZE when set, else ``launcher.nproc``."""
    return int(os.environ.get("WORLD_SIZE", cfg.launcher.nproc))


def check_launch(cfg) -> None:
    """``launcher.nproc`` against the machine and the backend against the hardware."""
    import torch

    nproc = cfg.launcher.nproc
    cpus = available_cpus()
    if nproc > cpus:
        raise ConfigError(f"launcher.nproc={nproc} but this machine lets rlvr use {cpus} CPU(s); "
                          f"each rank needs one: use launcher.nproc <= {cpus}")
    if cfg.trainer.backend == "nccl" and not torch.cuda.is_available():
        raise ConfigError("trainer.backend=nccl needs CUDA, but torch sees no GPU here; use "
                          "trainer.backend=gloo or auto")
    if cfg.trainer.backend == "nccl" and nproc > torch.cuda.device_count():
        raise ConfigError(f"launcher.nproc={nproc} with trainer.backend=nccl needs one GPU per "
                          f"rank; {torch.cuda.device_count()} visible")


def check_world(cfg, world: int) -> None:
    """What sharding the step over ``world`` ranks needs."""
    if world <= 1:
        return
    prompts = cfg.rollout.prompts_per_step
    if prompts % world:
        raise ConfigError(f"rollout.prompts_per_step={prompts} does not split over {world} ranks "
                          f"(launcher.nproc / torchrun --nproc-per-node): use a multiple of {world}")
    engine = cfg.rollout.engine.name
    if engine != "hf":
        raise ConfigError(f"rollout.engine={engine} does not run on several ranks yet (each rank "
                          f"would start its own engine): use rollout.engine=hf or one process")
    if cfg.algorithm.group_filter is not None:
        raise ConfigError("algorithm.group_filter (dynamic sampling) does not run on several "
                          "ranks yet: set it to null or run one process")
    if cfg.algorithm.hints is not None:
        raise ConfigError("algorithm.hints does not run on several ranks yet (untested): set it "
                          "to null or run one process")
    if cfg.trainer.parallel == "fsdp2":
        _check_fsdp2(cfg)


def _check_fsdp2(cfg) -> None:
    if cfg.model.lora is not None:
        raise ConfigError("trainer.parallel=fsdp2 with model.lora is not supported yet; use "
                          "trainer.parallel=ddp for LoRA")
    from rlvr.models.packed import HEAD_CHUNK_TOKENS  # the LM head runs in chunks above it

    kl = cfg.algorithm.kl
    if kl is not None and kl.reset_every:
        raise ConfigError("trainer.parallel=fsdp2 with a KL reference reset (ProRL reset_every) "
                          "is not supported yet; use trainer.parallel=ddp")
    tokens = cfg.optim.micro_batch_size * cfg.rollout.max_new_tokens
    if tokens > HEAD_CHUNK_TOKENS:  # a chunk count that differs across ranks would desynchronise
        raise ConfigError(f"trainer.parallel=fsdp2 needs optim.micro_batch_size x "
                          f"rollout.max_new_tokens <= {HEAD_CHUNK_TOKENS} (got {tokens}); lower "
                          f"optim.micro_batch_size or use trainer.parallel=ddp")


def preflight(cfg) -> None:
    """Every check, for the world size this process will join."""
    check_launch(cfg)
    check_world(cfg, world_size(cfg))
