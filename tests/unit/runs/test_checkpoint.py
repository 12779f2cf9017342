"""Checkpoint commit protocol on real files: kill -9 at every write boundary (F02, F06),
corruption of every kind (F04), a full disk (F05), rotation, and the state codec."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rlvr.runs import checkpoint as ckpt

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from rlvr.runs import checkpoint as ckpt
    from rlvr.runs.faultpoints import fault_point

    def files(step):
        def write(d):
            (d / "model.safetensors").write_bytes(bytes([step]) * 4096)
            fault_point("ckpt:after_model")
            (d / "optimizer.safetensors").write_bytes(bytes([step]) * 8192)
            fault_point("ckpt:after_optimizer")
            (d / "trainer.json").write_text('{"step": %d}' % step)
        return write

    root = Path(sys.argv[1])
    for step in (1, 2):
        ckpt.commit(root, step, files(step), keep_last=1)
""")


def _files(step: int, size: int = 1024):
    def write(directory: Path) -> None:
        (directory / "model.safetensors").write_bytes(bytes([step % 256]) * size)
        (directory / "trainer.json").write_text(json.dumps({"step": step}))
    return write


@pytest.mark.parametrize("boundary, survivor", [
    ("after_model", 1), ("after_optimizer", 1), ("before_manifest", 1), ("before_rename", 1),
    ("before_latest", 2), ("before_rotate", 2)])
def test_f02_f06_kill_at_each_write_boundary(tmp_path, boundary, survivor):
    root = tmp_path / "ckpt"
    env = {**os.environ, "RLVR_FAULT": f"ckpt:{boundary}:2"}  # the second commit's boundary
    done = subprocess.run([sys.executable, "-c", WRITER, str(root)], env=env, timeout=60)
    assert done.returncode == -9
    logs: list[str] = []
    assert ckpt.newest_valid(root, log=logs.append)[0] == survivor  # never a partial one
    assert all("step_00000002" in line for line in logs)  # only the interrupted one is skipped
    ckpt.commit(root, 3, _files(3), keep_last=1)  # the next save cleans up and rotates
    assert [s for s, _ in ckpt.list_steps(root)] == [3]
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step_00000003"]


def _two_checkpoints(root: Path) -> None:
    ckpt.commit(root, 1, _files(1), keep_last=3)
    ckpt.commit(root, 2, _files(2), keep_last=3)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


CORRUPTIONS = {
    "truncated shard": (lambda d: _truncate(d / "model.safetensors"), "bytes, the manifest says"),
    "flipped byte": (lambda d: _flip(d / "model.safetensors"), "does not match its sha256"),
    "deleted manifest": (lambda d: (d / "MANIFEST.json").unlink(), "no MANIFEST.json"),
    "garbage manifest": (lambda d: (d / "MANIFEST.json").write_text("{"), "unreadable"),
    "missing file": (lambda d: (d / "trainer.json").unlink(), "trainer.json is missing"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_f04_corrupt_newest_falls_back_with_a_reason(tmp_path, kind):
    root = tmp_path / "ckpt"
    _two_checkpoints(root)
    corrupt, reason = CORRUPTIONS[kind]
    corrupt(root / "step_00000002")
    logs: list[str] = []
    assert ckpt.newest_valid(root, log=logs.append)[0] == 1
    assert len(logs) == 1 and "step_00000002 skipped" in logs[0] and reason in logs[0]


@pytest.mark.parametrize("latest", ["", "step_00000009\n", "twelve\n"])
def test_f04_bad_latest_pointer_is_ignored(tmp_path, latest):
    root = tmp_path / "ckpt"
    _two_checkpoints(root)
    (root / "latest").write_text(latest)
    logs: list[str] = []
    assert ckpt.newest_valid(root, log=logs.append)[0] == 2
    assert "is unusable" in logs[0]


def test_size_mode_trusts_sizes_only(tmp_path):
    root = tmp_path / "ckpt"
    _two_checkpoints(root)
    _flip(root / "step_00000002" / "model.safetensors")
    assert ckpt.newest_valid(root, verify="size", log=lambda _: None)[0] == 2
    assert ckpt.check(root / "step_00000002", "sha256") is not None


def test_f05_disk_full_keeps_the_previous_checkpoint(tmp_path):
    root = tmp_path / "ckpt"
    ckpt.commit(root, 1, _files(1), keep_last=1)

    def full(directory: Path) -> None:
        (directory / "model.safetensors").write_bytes(b"x" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        ckpt.commit(root, 2, full, keep_last=1)
    assert ckpt.newest_valid(root)[0] == 1
    assert sorted(p.name for p in root.iterdir()) == ["latest", "step_00000001"]
    assert (root / "latest").read_text() == "step_00000001\n"


def test_rotation_keeps_newest_and_drops_abandoned_future(tmp_path):
    root = tmp_path / "ckpt"
    for step in (2, 4, 6, 8):
        ckpt.commit(root, step, _files(step), keep_last=5)
    (root / "step_00000008" / "MANIFEST.json").unlink()  # corrupt: a resume goes back to 6
    ckpt.commit(root, 7, _files(7), keep_last=2)
    assert [s for s, _ in ckpt.list_steps(root)] == [7, 6]


def test_resaving_a_step_replaces_a_corrupt_directory(tmp_path):
    root = tmp_path / "ckpt"
    ckpt.commit(root, 1, _files(1), keep_last=2)
    ckpt.commit(root, 2, _files(2), keep_last=2)
    (root / "step_00000002" / "trainer.json").write_text("torn")
    ckpt.commit(root, 2, _files(2, size=10), keep_last=2)
    assert ckpt.check(root / "step_00000002") is None
    assert not list(root.glob("*.tmp-*"))
