"""The ``hf_process`` engine: the hf engine in a child process (multiprocessing ``spawn``) with a
copy of the weights of its own, fed by the ``filesystem`` or ``broadcast`` weight sync.

The trainer's side renders prompts and builds groups (``TokenGroupEngine``); the child serves
only the token-level entry, over a pipe of plain data: ``TokenRequest`` lists in,
``TokenCompletion`` lists out. Unseeded requests draw from the trainer's global generator: its
state travels with the request and comes back advanced, so the child samples exactly what the
in-process engine would have. Every reply is awaited at most ``request_timeout_s``
(``start_timeout_s`` for the start); a child that dies or stalls becomes an error naming its pid.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Sequence
from typing import Any

import torch

from rlvr.rollout.engine import NamedTensors, TokenCompletion, TokenGroupEngine, TokenRequest
from rlvr.rollout.sync import (TrainerWeights, WeightSyncError, build_receiver, build_sender,
                              load_named)


class EngineProcessError(RuntimeError):
    """The engine process failed, died or did not answer in time."""


class ProcessEngine(TokenGroupEngine):
    """The hf engine behind a pipe; weights arrive through ``rollout.sync``."""

    capabilities = frozenset({"logits"})  # no "lora": a LoRA run sends merged weights

    def __init__(self, policy: Any, cfg: Any, run_dir: Any = None, batch_size: int = 64) -> None:
        knobs = cfg.rollout.engine
        self.tokenizer = policy.tokenizer
        self.system_prompt, self.instruction = cfg.task.system_prompt, cfg.task.instruction
        self.batch_size = batch_size
        self.request_timeout_s = knobs.request_timeout_s
        self.policy_version = 0
        self.device = torch.device(policy.device)
        self.sender = build_sender(cfg.rollout.sync, run_dir, policy.device, "the engine process")
        spec = {"model": cfg.model.model_dump(mode="json") | {"lora": None},
                "decoder": knobs.decoder, "batch_size": batch_size,
                "max_batch_rows": knobs.max_batch_rows, "weights": knobs.weights,
                "record_self_certainty": cfg.reward.needs_self_certainty,
                "sync": self.sender.receiver_spec(), "threads": torch.get_num_threads(),
                "deterministic": torch.are_deterministic_algorithms_enabled()}
        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(target=serve, args=(child_conn, spec), daemon=True,
                                       name="rlvr-engine")
        self.process.start()
        child_conn.close()
        self.peer = f"the engine process (pid {self.process.pid})"
        self.sender.peer = self.peer
        self._reply("start", knobs.start_timeout_s)

    @classmethod
    def from_config(cls, cfg: Any, policy: Any, run_dir: Any = None,
                    min_batch: int = 1) -> ProcessEngine:
        """Start the child and send it the policy's weights as they are now (version 0; the
        trainer syncs again once a resume has restored its weights)."""
        engine = cls(policy, cfg, run_dir, max(cfg.rollout.engine.batch_size, min_batch))
        engine.sync_weights(TrainerWeights(policy)(), 0)
        return engine

    def _complete(self, requests: Sequence[TokenRequest]) -> list[list[TokenCompletion]]:
        unseeded = any(r.seed is None for r in requests)
        rng = _rng_state(self.device) if unseeded else None
        completions, rng_after = self._call("generate", {"requests": list(requests), "rng": rng})
        if rng_after is not None:
            _set_rng_state(rng_after)
        return completions

    def sync_weights(self, named_tensors: NamedTensors, version: int) -> dict[str, float]:
        """Stage the weights, tell the child what to receive, move them, await its answer."""
        ticket = self.sender.prepare(named_tensors, version)
        self._post("sync", ticket)
        try:
            sent = self.sender.transfer(ticket)
        except WeightSyncError:
            if self.conn.poll(0.5):  # the child failed first: its reason is the one to show
                self._reply("sync", 0)
            raise
        self._reply("sync", self.request_timeout_s)
        self.policy_version = version
        return {"sync/bytes": float(sent)}

    def engine_weights(self) -> dict[str, torch.Tensor]:
        """The child's model weights (to check a sync bit for bit)."""
        return self._call("weights", None)

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(("stop", None))
            except (BrokenPipeError, OSError):  # the child is already gone
                pass
            self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)
        self.sender.close()
        self.conn.close()

    def _call(self, op: str, payload: Any) -> Any:
        self._post(op, payload)
        return self._reply(op, self.request_timeout_s)

    def _post(self, op: str, payload: Any) -> None:
        try:
            self.conn.send((op, payload))
        except (BrokenPipeError, OSError) as err:
            raise EngineProcessError(f"{self.peer} is gone ({err}); cannot send {op!r}") from err

    def _reply(self, op: str, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while not self.conn.poll(0.05):
            if not self.process.is_alive():
                raise EngineProcessError(f"{self.peer} died (exit code {self.process.exitcode}) "
                                         f"during {op!r}")
            if time.monotonic() > deadline:
                raise EngineProcessError(f"{self.peer} did not answer {op!r} within "
                                         f"{timeout_s:g}s")
        status, value = self.conn.recv()
        if status == "error":
            raise EngineProcessError(f"{self.peer} failed in {op!r}: {value}")
        return value


def serve(conn: Any, spec: dict[str, Any]) -> None:
    """The child: load the model, then answer requests until told to stop."""
    try:
        engine, receiver = _start(spec)
    except Exception as err:  # noqa: BLE001 - any start failure is reported to the trainer
        conn.send(("error", _describe(err)))
        return
    conn.send(("ok", None))
    while True:
        op, payload = conn.recv()
        if op == "stop":
            break
        try:
            conn.send(("ok", HANDLERS[op](engine, receiver, payload)))
        except Exception as err:  # noqa: BLE001 - reported to the trainer, which raises it
            conn.send(("error", _describe(err)))
    receiver.close()


def _start(spec: dict[str, Any]) -> tuple[Any, Any]:
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy
    from rlvr.rollout.hf import HFEngine

    torch.set_num_threads(spec["threads"])  # the same reductions as the trainer's process
    torch.use_deterministic_algorithms(spec["deterministic"])
    policy = load_policy(ModelConfig(**spec["model"]))
    engine = HFEngine(policy, None, None, spec["batch_size"], decoder=spec["decoder"],
                      max_batch_rows=spec["max_batch_rows"], weights=spec["weights"])
    engine.record_self_certainty = spec["record_self_certainty"]
    return engine, build_receiver(spec["sync"])


def _rng_state(device: torch.device) -> dict[str, Any]:
    """The global generators the decoder draws from: CPU, and the device's on CUDA."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = (device.index or 0, torch.cuda.get_rng_state(device))
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state:
        index, cuda_state = state["cuda"]
        torch.cuda.set_rng_state(cuda_state, index)


def _generate(engine: Any, receiver: Any, payload: dict[str, Any]) -> Any:
    rng = payload["rng"]
    if rng is not None:
        _set_rng_state(rng)
    completions = engine.generate_tokens(payload["requests"])
    return completions, None if rng is None else _rng_state(torch.device(engine.policy.device))


def _sync(engine: Any, receiver: Any, ticket: dict[str, Any]) -> None:
    receiver.receive(ticket, lambda named: load_named(engine.decode_model(), named))
    engine.sync_weights((), ticket["version"])


def _weights(engine: Any, receiver: Any, payload: Any) -> dict[str, torch.Tensor]:
    return {name: t.detach().clone() for name, t in engine.decode_model().state_dict().items()}


HANDLERS = {"generate": _generate, "sync": _sync, "weights": _weights}


def _describe(err: BaseException) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
    at = f" (at {where.filename}:{where.lineno})" if where else ""
    return f"{type(err).__name__}: {err}{at}"
