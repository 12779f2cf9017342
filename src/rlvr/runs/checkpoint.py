"""Atomic, verified checkpoint directories (docs/reliability.md "Checkpoint format").

Layout under ``RUN_DIR/ckpt/``::

    step_00000040/            one complete checkpoint (the number is the count of finished steps)
        model.safetensors (full) | adapter.safetensors (LoRA)  weights.json (models/saved.py)
        optimizer.safetensors/.json  trainer.safetensors/.json  identity.json
        MANIFEST.json         sha256 and size of every other file; written last
    latest                    "step_00000040\n" (advisory: resume scans and verifies)

Commit protocol: write into ``step_N.tmp-<uuid>/`` on the same filesystem, fsync every file,
write and fsync the manifest, fsync the directory, rename to ``step_N/``, fsync the parent,
replace ``latest``; verify the new checkpoint, and only then delete old ones. A crash at any
point leaves the previous checkpoints intact; leftover ``*.tmp-*`` directories are ignored and
removed at the next save or resume. Nothing here unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Callable

from rlvr.runs.faultpoints import fault_point

CKPT_DIR = "ckpt"  # RUN_DIR/ckpt/
MANIFEST = "MANIFEST.json"
LATEST = "latest"
FORMAT = 1
_STEP_DIR = re.compile(r"^step_(\d{8})$")


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or no usable checkpoint could be read."""


def is_step_dir_name(name: str) -> bool:
    return _STEP_DIR.match(name) is not None


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json_durable(path: Path, payload: object) -> None:
    """Write JSON to ``path`` through a temporary file, fsync and rename (never half-written)."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    with tmp.open("w") as fh:
        json.dump(payload, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent)


def _write_manifest(directory: Path, step: int) -> None:
    files = {}
    for path in sorted(directory.iterdir()):
        _fsync_path(path)
        files[path.name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    fault_point("ckpt:before_manifest")
    payload = {"format": FORMAT, "step": step, "created": time.time(), "files": files}
    with (directory / MANIFEST).open("w") as fh:
        json.dump(payload, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_path(directory)


def commit(root: Path, step: int, write_files: Callable[[Path], None], keep_last: int,
           verify: str = "sha256") -> Path:
    """Write one checkpoint atomically (see the module docstring); returns its directory."""
    root.mkdir(parents=True, exist_ok=True)
    remove_partial(root)
    final = root / step_dir_name(step)
    tmp = root / f"{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write_files(tmp)
        _write_manifest(tmp, step)
        fault_point("ckpt:before_rename")
        if final.exists():  # an abandoned or corrupt directory of the same step: set it aside
            os.rename(final, root / f"{final.name}.tmp-stale-{uuid.uuid4().hex[:8]}")
        os.rename(tmp, final)
        _fsync_path(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fault_point("ckpt:before_latest")
    (root / f".{LATEST}.tmp").write_text(final.name + "\n")
    with (root / f".{LATEST}.tmp").open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(root / f".{LATEST}.tmp", root / LATEST)
    _fsync_path(root)
    problem = check(final, verify)
    if problem is not None:
        raise CheckpointError(f"{final}: the checkpoint just written does not verify ({problem}); "
                              "older checkpoints were kept")
    fault_point("ckpt:before_rotate")
    rotate(root, step, keep_last)
    remove_partial(root)  # a same-step directory set aside above
    return final


def check(directory: Path, verify: str = "sha256") -> str | None:
    """None when ``directory`` is a complete checkpoint, else the reason it is not."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return f"no {MANIFEST} (the write did not finish)"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError) as err:
        return f"{MANIFEST} is unreadable ({err})"
    if manifest.get("format") != FORMAT:
        return f"{MANIFEST} has format {manifest.get('format')!r}, expected {FORMAT}"
    for name, entry in files.items():
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != entry["size"]:
            return f"{name} has {path.stat().st_size} bytes, the manifest says {entry['size']}"
        if verify == "sha256" and _sha256(path) != entry["sha256"]:
            return f"{name} does not match its sha256 in the manifest"
    return None


def list_steps(root: Path) -> list[tuple[int, Path]]:
    """``(step, dir)`` of every ``step_N`` directory, newest first (complete or not)."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir()
             if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return sorted(found, reverse=True)


def newest_valid(root: Path, verify: str = "sha256",
                 log: Callable[[str], None] = print) -> tuple[int, Path] | None:
    """The newest checkpoint that verifies; every rejected one is logged with its reason."""
    _check_latest(root, log)
    for step, directory in list_steps(root):
        problem = check(directory, verify)
        if problem is None:
            return step, directory
        log(f"rlvr: checkpoint {directory} skipped: {problem}")
    return None


def _check_latest(root: Path, log: Callable[[str], None]) -> None:
    latest = root / LATEST
    if not latest.exists():
        return
    name = latest.read_text(errors="replace").strip()
    if not _STEP_DIR.match(name) or not (root / name).is_dir():
        log(f"rlvr: {latest} is unusable ({name!r}); scanning {root} for checkpoints instead")


def remove_partial(root: Path) -> None:
    """Delete ``*.tmp-*`` leftovers of interrupted writes."""
    if root.is_dir():
        for path in root.iterdir():
            if ".tmp-" in path.name and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def rotate(root: Path, current: int, keep_last: int) -> None:
    """Keep the ``keep_last`` newest checkpoints up to ``current``; later ones belong to an
    abandoned timeline (a resume went back past them) and are removed too."""
    kept = 0
    for step, directory in list_steps(root):
        if step <= current and kept < keep_last:
            kept += 1
            continue
        shutil.rmtree(directory, ignore_errors=True)
