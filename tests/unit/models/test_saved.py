"""models/saved.py: the base-weight fingerprint and weights.json checks, on hand-built modules."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest
import torch

from rlvr.models.saved import base_fingerprint, load_weights, read_meta


class _Adapted(torch.nn.Module):
    """A weight under a peft-style name next to an adapter weight."""

    def __init__(self) -> None:
        super().__init__()
        self.base_layer = torch.nn.Linear(2, 1, bias=False)
        self.lora_A = torch.nn.Linear(2, 1, bias=False)


def test_fingerprint_is_the_sha256_of_name_dtype_shape_and_bytes():
    layer = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0]]))
    expected = hashlib.sha256(b"weight|torch.float32|(1, 2)\n" + struct.pack("<2f", 1.0, 2.0))
    assert base_fingerprint(layer) == expected.hexdigest()


def test_fingerprint_ignores_adapters_and_peft_names_but_not_base_weights():
    adapted = torch.nn.Module()
    adapted.q = _Adapted()
    plain = torch.nn.Module()
    plain.q = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        plain.q.weight.copy_(adapted.q.base_layer.weight)
    before = base_fingerprint(adapted)
    # "q.base_layer.weight" is named "q.weight", as in the plain model
    assert before == base_fingerprint(plain)
    with torch.no_grad():
        adapted.q.lora_A.weight.add_(1.0)
    assert base_fingerprint(adapted) == before
    with torch.no_grad():
        adapted.q.base_layer.weight.add_(1e-3)
    assert base_fingerprint(adapted) != before


def test_unknown_weights_json_is_refused_with_the_file_named(tmp_path):
    (tmp_path / "weights.json").write_text(json.dumps({"format": 1, "kind": "delta"}))
    with pytest.raises(ValueError, match=r"weights.json: unknown weights format 1 / kind 'delta'"):
        read_meta(tmp_path)


def test_a_lora_checkpoint_does_not_load_into_a_plain_model(tmp_path):
    (tmp_path / "weights.json").write_text(json.dumps(
        {"format": 1, "kind": "lora", "dtype": "float32", "base": {"name": "b", "sha256": "0"}}))
    with pytest.raises(ValueError, match="is a lora checkpoint but the model has no LoRA"):
        load_weights(torch.nn.Linear(2, 1), tmp_path)


def test_a_checkpoint_without_weights_json_is_a_full_one_named_by_its_identity(tmp_path):
    identity = {"config": {"model": {"name": "m", "dtype": "bfloat16"}}}
    (tmp_path / "identity.json").write_text(json.dumps(identity))
    assert read_meta(tmp_path) == {"format": 1, "kind": "full", "dtype": "bfloat16",
                                   "base": {"name": "m"}, "legacy": True}
