"""Config of the rollout engine (``rollout.engine``, chosen by ``name``) and of the weight sync
between the trainer and the engine (``rollout.sync``). The engines themselves live in
``rlvr/rollout/`` (registry: ``rlvr.rollout.engine.ENGINES``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from rlvr.configs.base import Node

DECODERS = ("auto", "static", "generate")


class HFEngineConfig(Node):
    """The ``hf`` engine: decodes with the trained model itself, in the trainer's process (no
    weights are copied: weight sync ``inprocess``)."""

    name: Literal["hf"] = "hf"
    syncs: ClassVar[tuple[str, ...]] = ("inprocess",)
    """The weight syncs this engine works with (rollout.sync.name)."""
    decoder: Literal["auto", "static", "generate"] = "auto"
    """'static': rlvr's decode loop (static KV cache, finished rows dropped; Llama/Qwen2/Qwen3
    models); 'generate': transformers generate (any model); 'auto': static where supported."""
    batch_size: int = Field(64, ge=1)
    """Sequences decoded together; larger batches are faster until memory runs out."""
    max_batch_rows: int | None = Field(None, ge=1)
    """At most this many rows in one decode call: a group larger than it (e.g. 512 samples)
    decodes in chunks of samples, with the same samples as undivided under the static decoder
    (per-sample random streams); null: a group always decodes whole."""
    weights: Literal["full", "int8", "onednn", "auto"] = "full"
    """'full': decode the trained weights as they are; 'int8': decode a W8A8 copy (int8 weights
    per output channel, int8 activations per token, integer GEMMs; rollout/int8.py),
    requantized at every rollout. Faster on CPUs where fp32 GEMMs are slow; the sampler's
    logprobs are the int8 model's, so algorithm.offpolicy must stay on (docs/performance.md).
    'onednn' (CPU): decode a copy of the same weights in the same precision packed once per
    rollout in oneDNN's layout (rollout/onednn.py); on a Zen 4 the few-row products of a
    decode step ran 2-4x faster than through MKL (on an AMX Xeon slower), and logits
    equal the full model's to float rounding. 'auto': 'onednn' for fp32 decoding (no autocast)
    on an AMD CPU with oneDNN, else 'full'."""
    compile: bool = False
    """``torch.compile`` the static decoder's token step (inductor, dynamic shapes), compiled
    at the first rollout of the process (~40 s for SmolLM2-135M on 2 cores). Fused elementwise
    work makes the step faster (fp32, 64 rows: +28 % tokens/s, benchmarks/README.md); logits
    differ from eager by float rounding, so a sampled token can differ where two are nearly
    tied. The static decoder only (refused with decoder='generate')."""


class HFProcessEngineConfig(Node):
    """The ``hf_process`` engine: the hf engine hosted in a child process with its own copy of
    the weights, refreshed after every optimizer step through ``rollout.sync`` (filesystem or
    broadcast). It decodes exactly what ``hf`` would; it exists to prove the seam that remote
    engines (vLLM, other machines) use."""

    name: Literal["hf_process"] = "hf_process"
    syncs: ClassVar[tuple[str, ...]] = ("filesystem", "broadcast")
    """The weight syncs this engine works with (rollout.sync.name)."""
    decoder: Literal["auto", "static", "generate"] = "auto"
    """The child's decoder, as for the hf engine."""
    batch_size: int = Field(64, ge=1)
    """Sequences decoded together in the child."""
    max_batch_rows: int | None = Field(None, ge=1)
    """At most this many rows in one of the child's decode calls, as for the hf engine."""
    weights: Literal["full", "onednn", "auto"] = "full"
    """The child's decode weights, as for the hf engine (no 'int8': its logprob gap needs the
    trainer-side correction settings the child does not see)."""
    start_timeout_s: float = Field(300.0, gt=0)
    """Seconds the child may take to start and load the model before the run fails."""
    request_timeout_s: float = Field(600.0, gt=0)
    """Seconds one request (a decode chunk, a weight sync) may take before the run fails."""


EngineConfig = Annotated[Union[HFEngineConfig, HFProcessEngineConfig], Field(discriminator="name")]


class WeightSyncConfig(Node):
    """How the trainer's weights reach the rollout engine after each optimizer step."""

    name: Literal["inprocess", "filesystem", "broadcast"] = "inprocess"
    """'inprocess': nothing to copy (the engine decodes the trainer's model); 'filesystem':
    safetensors of the HF-named weights plus ready/done marker files; 'broadcast': a bucketed
    torch.distributed broadcast over a dedicated group (gloo on CPU, NCCL on CUDA)."""
    timeout_s: float = Field(120.0, gt=0)
    """Bound of every wait (a marker file, a collective); a peer that does not answer within it
    fails the run with an error naming it."""
    dir: Path | None = None
    """Directory of the filesystem sync's files (default: RUN_DIR/weight_sync)."""
    bucket_mb: float = Field(64.0, gt=0)
    """Size of one broadcast bucket in MiB: tensors are flattened into buckets of this size."""
    backend: Literal["auto", "gloo", "nccl"] = "auto"
    """Backend of the broadcast group: 'auto' = NCCL when the engine runs on CUDA, else gloo."""
