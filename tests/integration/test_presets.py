"""Every preset trains a tiny model for 3 steps without NaN and logs the metrics its variant uses."""

from __future__ import annotations

import json
import math

import pytest

from rlvr.config import load_config
from rlvr.trainer.loop import train

COMMON = {"update/entropy", "update/is_weight", "update/sampler_logprob_gap", "grad_norm", "loss",
          "advantage/abs_mean"}
CLIP = {"update/clip_frac_low", "update/clip_frac_high"}
EXPECTED = {
    "grpo": CLIP, "dr_grpo": CLIP, "gspo": CLIP, "rloo": set(), "nsr": CLIP, "w_reinforce": CLIP,
    "cispo": {"update/clip_frac_high"},
    "dapo": CLIP | {"groups/dropped_share", "groups/filter_rounds", "groups/batch_fill"},
    "reinforce_pp": CLIP | {"kl/reward_kl_mean"},
    "prorl": CLIP | {"update/kl", "groups/dropped_share"},
    "forking_tokens": CLIP | {"update/tokens_selected"},
    "rft": set(),
}
EXTRA = {"rft": ["algorithm.advantage.correct_at=0.25"]}  # the digit share keeps some samples


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_preset_trains_three_steps(preset, tiny_model_dir, tmp_path):
    run_dir = tmp_path / preset
    cfg = load_config(None, [
        f"model.name={tiny_model_dir}", "model.autocast='off'", f"algorithm={preset}", "steps=3",
        "task.train_size=40", "task.eval_size=4", "rollout.prompts_per_step=2",
        "rollout.group_size=3", "rollout.max_new_tokens=4", "optim.micro_batch_size=4",
        "reward.terms=[{name: python, path: 'reward_digits:digit_share'}]",
        "reward.pool.workers=1", "eval=null", f"log.run_dir={run_dir}", "log.tensorboard=false",
        "log.progress=false", "checkpoint.every=0", *EXTRA.get(preset, [])])
    train(cfg)
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1, 2]
    for m in lines:
        assert all(math.isfinite(v) for v in m.values() if isinstance(v, float)), m
        missing = (COMMON | EXPECTED[preset]) - set(m)
        assert not missing, f"{preset} step {m['step']} lacks {sorted(missing)}"
    assert any(m["grad_norm"] > 0 for m in lines), "no learning signal reached the weights"
