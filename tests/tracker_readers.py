"""Read back what each experiment tracker stored, with the tracker's own libraries where they
have a reader: {metric name: {step: value}}."""

from __future__ import annotations

import json
import struct
from pathlib import Path

WANDB_BLOCK = 32 * 1024  # the .wandb file is a LevelDB-style log of 32 KiB blocks
WANDB_FILE_HEADER = 7  # ":W&B", a 2-byte magic, a 1-byte version
WANDB_RECORD_HEADER = 7  # crc32c (4), payload length (2), chunk type (1)
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def tensorboard_scalars(log_dir: Path) -> dict[str, dict[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}


def mlflow_metrics(tracking_uri: str, run_id: str) -> dict[str, dict[int, float]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    names = client.get_run(run_id).data.metrics
    return {name: {m.step: m.value for m in client.get_metric_history(run_id, name)}
            for name in names}


def _wandb_payloads(data: bytes):
    """Payloads of the records in a .wandb file (chunks joined; checksums not verified)."""
    pos, parts = WANDB_FILE_HEADER, []
    while pos + WANDB_RECORD_HEADER <= len(data):
        left_in_block = WANDB_BLOCK - pos % WANDB_BLOCK
        if left_in_block < WANDB_RECORD_HEADER:  # the block's tail is zero padding
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + WANDB_RECORD_HEADER])
        pos += WANDB_RECORD_HEADER
        if kind == 0:  # padding written ahead of a block end
            pos += left_in_block - WANDB_RECORD_HEADER
            continue
        parts.append(data[pos:pos + length])
        pos += length
        if kind in (FULL, LAST):
            yield b"".join(parts)
            parts = []


def wandb_history(run_dir: Path) -> dict[str, dict[int, float]]:
    """The history rows of every offline run under RUN_DIR/wandb, parsed with wandb's protobuf
    record type (wandb >= 0.2x has no Python reader of its own)."""
    from wandb.proto import wandb_internal_pb2

    out: dict[str, dict[int, float]] = {}
    for path in sorted(run_dir.glob("wandb/offline-run-*/run-*.wandb")):
        data = path.read_bytes()
        assert data[:4] == b":W&B", path
        for payload in _wandb_payloads(data):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            if record.WhichOneof("record_type") != "history":
                continue
            row = {item.key or "/".join(item.nested_key): json.loads(item.value_json)
                   for item in record.history.item}
            step = row.pop("_step")
            for name, value in row.items():
                if not name.startswith("_"):  # _timestamp, _runtime: wandb's own
                    out.setdefault(name, {})[step] = value
    return out


def wandb_run_ids(run_dir: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[1] for p in run_dir.glob("wandb/offline-run-*"))
