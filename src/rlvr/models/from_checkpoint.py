"""``load_policy`` on a training checkpoint: ``RUN_DIR/ckpt/step_N``, ``RUN_DIR/ckpt`` or
``RUN_DIR`` (the newest checkpoint that verifies). The base model named in its weights.json gives
the architecture and tokenizer; the checkpoint's weights replace the base's, and a LoRA
checkpoint's adapters are merged in, so evaluation sees a plain model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rlvr.runs import checkpoint as ckpt

if TYPE_CHECKING:
    from rlvr.configs.run import ModelConfig
    from rlvr.models.loader import Policy


def find_checkpoint(source: str) -> Path | None:
    """The checkpoint directory ``source`` names, or None when it is no checkpoint (a model)."""
    path = Path(source)
    if not path.is_dir():
        return None
    if (path / ckpt.MANIFEST).is_file() or ckpt.is_step_dir_name(path.name):
        problem = ckpt.check(path)
        if problem is not None:
            raise ValueError(f"{path} is not a complete checkpoint: {problem}")
        return path
    root = path / ckpt.CKPT_DIR if (path / ckpt.CKPT_DIR).is_dir() else path
    if not ckpt.list_steps(root):
        if root is path:
            return None  # a Hugging Face model directory
        raise ValueError(f"{path} is a run directory without checkpoints ({root} is empty)")
    found = ckpt.newest_valid(root)
    if found is None:
        raise ValueError(f"{root}: no checkpoint verifies (see the reasons above)")
    return found[1]


def load_checkpoint_policy(cfg: ModelConfig, directory: Path, base: str | None = None) -> Policy:
    """The policy of checkpoint ``directory`` on its base model (or ``base``), device and
    autocast from ``cfg``; weights in the dtype they were trained in."""
    from rlvr.configs.run import LoraConfig
    from rlvr.models.loader import load_policy
    from rlvr.models.lora import apply_lora
    from rlvr.models.saved import load_weights, read_meta

    meta = read_meta(directory)
    base_name = base or meta["base"]["name"]
    plain = cfg.model_copy(update={"name": base_name, "dtype": meta["dtype"], "lora": None})
    try:
        policy = load_policy(plain)
    except OSError as err:
        raise ValueError(f"{directory}: cannot load its base model {base_name!r} ({err}); "
                         "pass the base with --base") from None
    if meta["kind"] == "full":
        load_weights(policy.model, directory)
        return policy
    model = apply_lora(policy.model, LoraConfig(**meta["lora"]))
    load_weights(model, directory, base_name)
    return replace(policy, model=model.merge_and_unload())
