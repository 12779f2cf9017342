"""The frozen reference policy for KL: built only when the algorithm has a KL term, optionally
re-anchored to the current policy every N steps (ProRL).

With LoRA (``model.lora``) and no reset, the reference is the policy itself with its adapters
switched off: the frozen base weights are exactly the initial policy (B starts at zero), so no
copy of the weights is held. A ProRL reset needs a snapshot of the adapted policy, so LoRA with
``reset_every`` keeps a copy as without LoRA."""

from __future__ import annotations

import copy

import torch

from rlvr.algorithms import Algorithm
from rlvr.models.loader import Policy
from rlvr.models.lora import adapters_off, is_lora
from rlvr.models.logprobs import completion_logprobs
from rlvr.types import TrainBatch


@torch.no_grad()
def frozen_logprobs(policy: Policy, model: torch.nn.Module, batch: TrainBatch,
                    micro_batch_size: int, temperature: float) -> torch.Tensor:
    """logprobs_NT of ``batch``'s completion tokens under ``model`` (no gradient), in
    micro-batches, under ``policy``'s autocast; rows with ``temperature_N`` at their own."""
    parts = []
    for idx in torch.arange(batch.num_sequences).split(micro_batch_size):
        with policy.autocast():
            logp_NT, _ = completion_logprobs(model, batch.select(idx), temperature)
        parts.append(logp_NT.float())
    return torch.cat(parts)


class ReferencePolicy:
    """A frozen copy of the policy's weights at the start of training (or at the last reset)."""

    def __init__(self, policy: Policy, reset_every: int | None, reset_optimizer: bool) -> None:
        self.policy = policy
        self.model = copy.deepcopy(policy.model).eval().requires_grad_(False)
        self.reset_every = reset_every
        self.reset_optimizer = reset_optimizer

    def logprobs(self, batch: TrainBatch, micro_batch_size: int,
                 temperature: float) -> torch.Tensor:
        """ref logprobs_NT of the completion tokens, in micro-batches."""
        return frozen_logprobs(self.policy, self.model, batch, micro_batch_size, temperature)

    def maybe_reset(self, step: int, optimizer: torch.optim.Optimizer) -> bool:
        """At every ``reset_every``-th step (not step 0): copy the current weights into the
        reference and, if configured, clear the optimizer's moments. Returns whether it did."""
        if self.reset_every is None or step == 0 or step % self.reset_every:
            return False
        self.model.load_state_dict(self.policy.model.state_dict())
        if self.reset_optimizer:
            optimizer.state.clear()
        return True


class AdapterOffReference:
    """The LoRA policy with its adapters bypassed: the initial policy, without a copy. It holds no
    state of its own: the frozen base weights are not checkpointed at all (a LoRA checkpoint holds
    the adapters and the base's fingerprint, models/saved.py)."""

    reset_every = None  # built only without ProRL resets

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @torch.no_grad()
    def logprobs(self, batch: TrainBatch, micro_batch_size: int,
                 temperature: float) -> torch.Tensor:
        """ref logprobs_NT of the completion tokens, in micro-batches."""
        parts = []
        with adapters_off(self.policy.model) as base:
            for idx in torch.arange(batch.num_sequences).split(micro_batch_size):
                with self.policy.autocast():
                    logp_NT, _ = completion_logprobs(base, batch.select(idx), temperature)
                parts.append(logp_NT.float())
        return torch.cat(parts)

    def maybe_reset(self, step: int, optimizer: torch.optim.Optimizer) -> bool:
        return False  # built only without reset_every


def build_reference(policy: Policy,
                    algo: Algorithm) -> ReferencePolicy | AdapterOffReference | None:
    """None when the algorithm has no KL term: then no reference weights are held at all."""
    if not algo.needs_reference:
        return None
    if is_lora(policy.model) and algo.kl.reset_every is None:
        return AdapterOffReference(policy)
    return ReferencePolicy(policy, algo.kl.reset_every, algo.kl.reset_optimizer)


def reference_scorer(reference: ReferencePolicy | AdapterOffReference | None, step: int,
                     optimizer, settings):
    """The advantage stage's ``ref_logprobs(batch)`` callable for this step (None without KL)
    and its metrics; re-anchors the reference first when a ProRL reset is due. With resets on,
    ``kl/ref_reset`` is 1 on a step that reset and 0 otherwise (its sum counts the resets)."""
    if reference is None:
        return None, {}
    did_reset = reference.maybe_reset(step, optimizer)
    metrics = {} if reference.reset_every is None else {"kl/ref_reset": float(did_reset)}
    return (lambda batch: reference.logprobs(batch, settings.micro_batch_size,
                                             settings.temperature)), metrics
