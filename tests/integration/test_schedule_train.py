"""Tiny training runs that show two schedule features acting: ProRL's periodic reset of the KL
reference, and multi-epoch PPO, where the clip engages only once the policy has moved."""

from __future__ import annotations

import json

from rlvr.config import load_config
from rlvr.trainer.loop import train


def run(tiny_model_dir, run_dir, *overrides: str) -> list[dict]:
    cfg = load_config(None, [
        f"model.name={tiny_model_dir}", "model.autocast='off'", "task.train_size=40",
        "task.eval_size=4", "rollout.prompts_per_step=2", "rollout.group_size=3",
        "rollout.max_new_tokens=4", "optim.micro_batch_size=6", "optim.warmup_steps=0",
        "reward.terms=[{name: python, path: 'reward_digits:digit_share'}]",
        "reward.pool.workers=1", "eval=null", f"log.run_dir={run_dir}", "log.tensorboard=false",
        "log.progress=false", "checkpoint.every=0", *overrides])
    train(cfg)
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_prorl_resets_the_reference_every_n_steps(tiny_model_dir, tmp_path):
    # reset_every=2 over steps 0-4: resets at steps 2 and 4 (never at step 0).
    lines = run(tiny_model_dir, tmp_path / "prorl", "algorithm=prorl", "steps=5",
                "algorithm.kl.reset_every=2", "algorithm.group_filter=null", "optim.lr=1e-2")
    resets = [m["kl/ref_reset"] for m in lines]
    assert resets == [0.0, 0.0, 1.0, 0.0, 1.0] and sum(resets) == 2
    # One optimizer step per batch: on a reset step (and step 0) the reference IS the policy
    # being scored, so the loss KL is ~0; on the steps between, the policy has moved away.
    kl = [m["update/kl"] for m in lines]
    moved = min(kl[1], kl[3])
    assert moved > 1e-6, kl
    assert max(kl[0], kl[2], kl[4]) < 1e-3 * moved, kl


def test_multi_epoch_ppo_clips_only_after_the_first_epoch(tiny_model_dir, tmp_path):
    lines = run(tiny_model_dir, tmp_path / "ppo", "algorithm=grpo", "steps=2",
                "algorithm.epochs=3", "optim.lr=3e-2")
    for m in lines:
        # Epoch 0 is on-policy (the old logprobs are this very policy's): nothing is clipped.
        assert m["update/epoch0/clip_frac_low"] == 0 and m["update/epoch0/clip_frac_high"] == 0
    late = [m[f"update/epoch{e}/clip_frac_{side}"] for m in lines for e in (1, 2)
            for side in ("low", "high")]
    assert max(late) > 0.05, late
    # Every epoch sees the same tokens, so the step's clip fraction is the mean of the epochs'.
    for m, side in ((m, side) for m in lines for side in ("low", "high")):
        per_epoch = [m[f"update/epoch{e}/clip_frac_{side}"] for e in range(3)]
        assert abs(m[f"update/clip_frac_{side}"] - sum(per_epoch) / 3) < 1e-9
