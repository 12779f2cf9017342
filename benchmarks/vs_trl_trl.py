"""The TRL worker of benchmarks/vs_trl.py: TRL's GRPOTrainer, unchanged, run on the benchmark's
work and released one optimizer step at a time by the driver."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from vs_trl_common import Channel, StepProbe, load_work_config, peak_rss_mib


# ---- the TRL worker ----------------------------------------------------------------------------


def prompt_plan(cfg, steps: int):
    """The rows rlvr's prompt sampler hands out for steps 0..steps-1, in order."""
    from rlvr.data.tasks import build_task
    from rlvr.trainer.prompts import PromptSampler

    task = build_task(cfg.task)
    sampler = PromptSampler(task.train_rows(), cfg.seed)
    rows = [row for _ in range(steps) for row in sampler.next(cfg.rollout.prompts_per_step)]
    return task, rows


def trl_dataset(cfg, rows):
    """Conversational prompts rendered by rlvr's own message builder, plus the row id."""
    from datasets import Dataset

    from rlvr.data.templates import build_messages

    return Dataset.from_list([
        {"prompt": build_messages(row, cfg.task.system_prompt, cfg.task.instruction),
         "row_id": row.row_id} for row in rows])


def make_reward_function(task, rows, probe: StepProbe):
    """TRL reward function that scores with rlvr's task verifier (the same scorer as rlvr)."""
    by_id = {row.row_id: row for row in rows}

    def chain_sum_verifier(prompts, completions, row_id, **kwargs):
        with probe.stage("reward"):
            scores = []
            for completion, rid in zip(completions, row_id):
                text = completion[-1]["content"] if isinstance(completion, list) else completion
                scores.append(task.verify(text, by_id[rid]).score)
        probe.extra["rewards"] = scores
        probe.extra["row_ids"] = list(dict.fromkeys(row_id))
        return scores

    return chain_sum_verifier


def trl_config(args: argparse.Namespace, cfg, output_dir: Path):
    """GRPOConfig for the same work, with TRL's fastest CPU settings that run."""
    from trl import GRPOConfig

    completions = cfg.rollout.prompts_per_step * cfg.rollout.group_size
    micro = min(args.micro_batch, completions)
    accumulation = completions // micro
    return GRPOConfig(
        output_dir=str(output_dir), use_cpu=True, bf16=args.dtype == "bf16", seed=cfg.seed,
        learning_rate=cfg.optim.lr, lr_scheduler_type="constant", warmup_steps=0,
        adam_beta1=cfg.optim.betas[0], adam_beta2=cfg.optim.betas[1],
        weight_decay=cfg.optim.weight_decay, max_grad_norm=cfg.optim.max_grad_norm,
        per_device_train_batch_size=micro, gradient_accumulation_steps=accumulation,
        steps_per_generation=accumulation, num_iterations=1, num_generations=cfg.rollout.group_size,
        max_completion_length=cfg.rollout.max_new_tokens, temperature=cfg.rollout.temperature,
        top_p=cfg.rollout.top_p, beta=0.0, loss_type="grpo", scale_rewards="group",
        epsilon=0.2, shuffle_dataset=False, max_steps=args.steps,
        gradient_checkpointing=args.trl_gradient_checkpointing,  # TRL's default is True
        logging_steps=1, report_to="none", save_strategy="no", disable_tqdm=True,
        dataloader_num_workers=0, log_completions=False)


TRL_SETTINGS = ("use_cpu", "bf16", "per_device_train_batch_size", "gradient_accumulation_steps",
                "steps_per_generation", "generation_batch_size", "num_iterations",
                "num_generations", "max_completion_length", "temperature", "top_p", "top_k",
                "beta", "loss_type", "scale_rewards", "epsilon", "learning_rate",
                "lr_scheduler_type", "adam_beta1", "adam_beta2", "max_grad_norm", "optim",
                "gradient_checkpointing", "shuffle_dataset", "use_vllm",
                "use_transformers_paged", "logging_steps")


def trl_settings(config) -> dict:
    return {name: str(getattr(config, name, None)) if not isinstance(
        getattr(config, name, None), (int, float, bool, type(None))) else getattr(config, name)
        for name in TRL_SETTINGS}


def timed_trainer_class():
    from trl import GRPOTrainer

    class TimedGRPOTrainer(GRPOTrainer):
        """GRPOTrainer unchanged, with stage timers around generation and scoring."""

        probe: StepProbe
        group_size: int

        def _generate(self, prompts):
            with self.probe.stage("rollout"):
                out = super()._generate(prompts)
            self.probe.count(out[0], out[1], self.group_size, prompt_once_per_group=False)
            return out

        def _generate_and_score_completions(self, inputs):
            with self.probe.stage("generate_and_score"):
                return super()._generate_and_score_completions(inputs)

    return TimedGRPOTrainer


def release_callback(channel: Channel, probe: StepProbe, clock: dict):
    """Blocks the TRL loop before each optimizer step until the driver releases it."""
    from transformers import TrainerCallback

    class Release(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self._wait(control)

        def on_step_end(self, args, state, control, **kwargs):
            elapsed = time.perf_counter() - clock["start"]
            channel.send(trl_step_record(state.global_step - 1, elapsed, probe))
            self._wait(control)

        def _wait(self, control):
            if channel.wait() != "step":
                control.should_training_stop = True
            probe.reset()
            clock["start"] = time.perf_counter()

    return Release()


def trl_step_record(step: int, elapsed: float, probe: StepProbe) -> dict:
    stages = dict(probe.stages)
    prepared = stages.pop("generate_and_score", 0.0)
    measured = stages.get("rollout", 0.0) + stages.get("reward", 0.0)
    stages["advantages"] = max(prepared - measured, 0.0)  # tokenising, padding, advantages
    stages["update"] = elapsed - prepared  # loss, backward and optimizer step (and loop overhead)
    scores = [s for s in probe.extra.get("rewards", []) if s is not None]
    return {"step": step, "step_s": elapsed, "stages": stages, "tokens": probe.tokens,
            "reward": statistics.fmean(scores) if scores else 0.0,
            "accuracy": statistics.fmean(float(s >= 1.0) for s in scores) if scores else 0.0,
            "row_ids": probe.extra.get("row_ids", []),
            "prompts_digest": probe.extra.get("prompts_digest"), "peak_rss_mib": peak_rss_mib()}


def load_trl_model(cfg):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.models.loader import resolve_model_path

    path = resolve_model_path(cfg.model.name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return model, tokenizer


def run_trl_worker(args: argparse.Namespace) -> None:
    channel = Channel()
    started = time.perf_counter()
    cfg = load_work_config(args, Path(args.run_dir) / "rlvr-config-only")
    task, rows = prompt_plan(cfg, args.steps)
    probe = StepProbe()
    model, tokenizer = load_trl_model(cfg)
    trainer_class = timed_trainer_class()
    trainer_class.probe, trainer_class.group_size = probe, cfg.rollout.group_size
    clock = {"start": time.perf_counter()}
    trainer = trainer_class(model=model, processing_class=tokenizer,
                            reward_funcs=make_reward_function(task, rows, probe),
                            args=trl_config(args, cfg, Path(args.run_dir) / "trl"),
                            train_dataset=trl_dataset(cfg, rows),
                            callbacks=[release_callback(channel, probe, clock)])
    channel.send({"ready": True, "setup_s": time.perf_counter() - started,
                  "stop_ids": list(trainer.eos_token_ids),
                  "autocast": ("bf16 (accelerate mixed_precision=bf16)" if args.dtype == "bf16"
                               else "none (fp32)"),
                  "params": sum(p.numel() for p in model.parameters()),
                  "settings": trl_settings(trainer.args)})
    try:
        trainer.train()
    finally:
        channel.send({"done": True, "peak_rss_mib": peak_rss_mib()})
