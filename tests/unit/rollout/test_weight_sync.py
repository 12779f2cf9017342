"""The weight-sync registry (rollout/sync.py, sync_broadcast.py): bit-exact transfers, bytes
counted, tied weights sent once, bucket plans by hand, and every wait bounded by a timeout that
names what it waited for."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from rlvr.configs.engine import WeightSyncConfig
from rlvr.rollout.sync import (TrainerWeights, WeightSyncError, build_receiver, build_sender,
                               load_named)
from rlvr.rollout.sync_broadcast import pick_backend, plan_buckets


def _weights() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {"a.weight": torch.randn(3, 4, generator=gen),  # 48 bytes
            "b.bias": torch.randn(5, generator=gen),  # 20 bytes
            "c.ids": torch.arange(6, dtype=torch.int64)}  # 48 bytes


def _roundtrip(cfg: WeightSyncConfig, tmp_path, version: int = 3) -> tuple[dict, int]:
    sender = build_sender(cfg, tmp_path, "cpu", "the test receiver")
    receiver = build_receiver(sender.receiver_spec())
    got: dict = {}
    ticket = sender.prepare(iter(_weights().items()), version)
    worker = threading.Thread(target=receiver.receive, args=(ticket, got.update))
    worker.start()
    sent = sender.transfer(ticket)
    worker.join(timeout=30)
    sender.close()
    receiver.close()
    return got, sent


@pytest.mark.parametrize("name", ["filesystem", "broadcast"])
def test_transfer_is_bit_exact_and_counts_bytes(tmp_path, name):
    got, sent = _roundtrip(WeightSyncConfig(name=name, timeout_s=20, bucket_mb=40 / 2**20),
                           tmp_path)
    assert sent == 48 + 20 + 48
    want = _weights()
    assert got.keys() == want.keys()
    for key in want:
        assert got[key].dtype == want[key].dtype and torch.equal(got[key], want[key]), key


def test_filesystem_keeps_only_the_newest_version(tmp_path):
    cfg = WeightSyncConfig(name="filesystem", timeout_s=20)
    _roundtrip(cfg, tmp_path, version=1)
    _roundtrip(cfg, tmp_path, version=2)
    assert [p.name for p in (tmp_path / "weight_sync").iterdir()] == ["v00000002"]


def test_filesystem_waits_are_bounded_and_name_the_file(tmp_path):
    cfg = WeightSyncConfig(name="filesystem", timeout_s=0.3)
    sender = build_sender(cfg, tmp_path, "cpu", "the engine process (pid 7)")
    ticket = sender.prepare(iter(_weights().items()), 4)
    start = time.monotonic()
    with pytest.raises(WeightSyncError, match=r"v00000004/done \(the engine process \(pid 7\) "
                                              r"to confirm it loaded version 4\)"):
        sender.transfer(ticket)  # nobody loads it
    assert time.monotonic() - start < 5
    receiver = build_receiver(sender.receiver_spec())
    with pytest.raises(WeightSyncError, match="v00000009/ready .*ready marker of version 9"):
        receiver.receive({**ticket, "version": 9, "folder": str(tmp_path / "v00000009")}, print)


def test_broadcast_to_a_peer_that_never_joins_names_it(tmp_path):
    sender = build_sender(WeightSyncConfig(name="broadcast", timeout_s=1), tmp_path, "cpu",
                          "the engine process (pid 99)")
    ticket = sender.prepare(iter(_weights().items()), 1)
    with pytest.raises(WeightSyncError, match="joining the broadcast group with the engine "
                                              r"process \(pid 99\) failed within 1s"):
        sender.transfer(ticket)


def test_bucket_plan_by_hand():
    """Buckets of 60 bytes: a (48 B float) opens bucket 0; b (20 B) would overflow it -> bucket 1;
    ids (int64) get their own dtype bucket 2; d (8 B float) fits beside b at offset 5."""
    named = [*_weights().items(), ("d", torch.zeros(2))]
    meta, buckets = plan_buckets(named, 60)
    assert [(m["name"], m["bucket"], m["offset"]) for m in meta] == [
        ("a.weight", 0, 0), ("b.bias", 1, 0), ("c.ids", 2, 0), ("d", 1, 5)]
    assert [len(b) for b in buckets] == [1, 2, 1]


def test_nccl_needs_cuda():
    assert pick_backend("auto", "cpu") == "gloo"
    with pytest.raises(ValueError, match="rollout.sync.backend=nccl needs the weights on CUDA"):
        pick_backend("nccl", "cpu")


def test_trainer_weights_send_a_tied_head_once_and_load_back(tiny_model_dir):
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import load_policy

    policy = load_policy(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    named = dict(TrainerWeights(policy)())
    state = policy.model.state_dict()
    assert "lm_head.weight" in state and "lm_head.weight" not in named  # tied to the embedding
    assert len(named) == len(state) - 1
    other = load_policy(ModelConfig(name=str(tiny_model_dir), device="cpu")).model
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    load_named(other, named)
    for key, value in other.state_dict().items():
        assert torch.equal(value, state[key]), key
    with pytest.raises(WeightSyncError, match="no weight 'nope'"):
        load_named(other, {**named, "nope": torch.zeros(1)})
    with pytest.raises(WeightSyncError, match="no tensor was sent for"):
        load_named(other, {k: v for k, v in named.items() if "layers.0" not in k})
    first = next(iter(named))
    with pytest.raises(WeightSyncError, match=f"{first!r} has shape"):
        load_named(other, {**named, first: torch.zeros(1)})
