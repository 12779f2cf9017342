"""rlvr vs TRL's GRPOTrainer on identical work, step by step (benchmarks/README.md "rlvr vs TRL").

    .venv/bin/python benchmarks/vs_trl.py               # 20 steps each, writes results/vs_trl.json
    .venv/bin/python benchmarks/vs_trl.py --quick       # 2 steps, 16 new tokens (smoke test)
    .venv/bin/python benchmarks/vs_trl.py --steps 10 --dtype fp32   # 10 pairs, fp32 on both sides

TRL is a benchmark-only dependency (``pip install trl==1.16.0``); rlvr does not depend on it.

The work: the quickstart task (reasoning-gym chain_sum, two terms of 1-2 digits, "Reply with just
the number.", last-number extraction scored by reasoning-gym's scorer through rlvr's own task
object), the embedded SmolLM2-135M-Instruct in fp32 weights, computing in the --dtype (auto: bf16
autocast where the CPU has fast bf16 -- AVX512-BF16/AMX -- else fp32; the same on both
sides), 4 prompts x 8 completions per step, 64 new tokens at temperature 1.0, lr 1e-5
constant, AdamW betas (0.9, 0.99), grad-norm clip 1.0, no KL and no reference model, one
optimizer step per rollout batch, GRPO advantages and the per-sequence token mean loss. Both
frameworks see the same prompts in the same order (rlvr's seeded prompt sampler decides; TRL gets
them as an unshuffled dataset).

Each framework runs in its own long-lived worker process holding its model and optimizer. The
driver releases one step at a time, alternating TRL, rlvr, TRL, rlvr, ..., so slow drifts of the
machine (other load, thermal state) hit both alike; the idle worker blocks on a pipe read. A TRL
worker runs ``trainer.train()`` unchanged and waits for the next release inside a callback at the
end of each optimizer step; an rlvr worker calls the trainer's ``setup`` / ``train_step``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from rlvr.hardware import DTYPES, choose_dtype, cpu_facts

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "vs_trl.json"
QUICKSTART = ROOT / "configs" / "quickstart.yaml"
MODEL = "smollm2-135m-instruct"
FRAMEWORKS = ("trl", "rlvr")


# ---- shared by both workers --------------------------------------------------------------------


def work_overrides(args: argparse.Namespace, run_dir: Path) -> list[str]:
    """The quickstart config narrowed to the benchmark's work (rlvr's config is the source)."""
    return [f"steps={args.steps}", f"model.name={MODEL}", "model.dtype=float32",
            f"model.autocast={'bf16' if args.dtype == 'bf16' else 'off'}",
            "rollout.prompts_per_step=4", "rollout.group_size=8",
            f"rollout.max_new_tokens={args.max_new_tokens}", "rollout.temperature=1.0",
            "rollout.top_p=1.0", "optim.lr=1e-5", "optim.warmup_steps=0",
            f"optim.micro_batch_size={args.micro_batch}", "algorithm=grpo", "eval=null",
            "checkpoint.every=0", "log.tensorboard=false", "log.progress=false",
            f"log.run_dir={run_dir}", f"rollout.engine.weights={args.rlvr_weights}"]


def load_work_config(args: argparse.Namespace, run_dir: Path):
    from rlvr.config import load_config

    return load_config(QUICKSTART, work_overrides(args, run_dir))


def digest(obj) -> str:
    return hashlib.sha1(json.dumps(obj).encode()).hexdigest()[:12]


def peak_rss_mib() -> dict[str, float]:
    """VmHWM of this process, and that plus the VmHWM of every descendant (reward workers)."""
    own = _vm_hwm_kib(os.getpid())
    children = sum(_vm_hwm_kib(pid) for pid in _descendants(os.getpid()))
    return {"process": own / 1024, "with_children": (own + children) / 1024}


def _vm_hwm_kib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


class Channel:
    """The worker's side of the driver pipe. Protocol lines go to a private copy of stdout;
    fd 1 itself is pointed at stderr, so library prints never corrupt the protocol."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message) + "\n")

    def wait(self) -> str:
        """The driver's next command: 'step' or 'stop'."""
        line = sys.stdin.readline()
        return line.strip() or "stop"


class StepProbe:
    """Stage seconds and token counts of the step in progress."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.stages: dict[str, float] = {}
        self.tokens: dict[str, int] = {}
        self.extra: dict = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start

    def count(self, prompts: list[list[int]], completions: list[list[int]], group_size: int,
              prompt_once_per_group: bool) -> None:
        """Generated tokens, and the tokens that go through the training forward + backward."""
        generated = sum(len(c) for c in completions)
        prompt_tokens = sum(len(p) for p in prompts)
        if prompt_once_per_group:
            prompt_tokens //= group_size
        self.tokens = {"generated": generated, "trained": prompt_tokens + generated,
                       "prompt_trained": prompt_tokens}
        self.extra["prompts_digest"] = digest([list(p) for p in prompts[::group_size]])


# ---- the rlvr worker ---------------------------------------------------------------------------


def run_rlvr_worker(args: argparse.Namespace) -> None:
    channel = Channel()
    started = time.perf_counter()
    from rlvr.trainer.loop import setup, train_step

    cfg = load_work_config(args, Path(args.run_dir) / "rlvr")
    trainer = setup(cfg)
    probe = StepProbe()
    _capture_rlvr_rollouts(trainer, probe, cfg.rollout.group_size)
    channel.send({"ready": True, "setup_s": time.perf_counter() - started,
                  "stop_ids": list(trainer.engine.stop_ids),
                  "autocast": str(trainer.policy.autocast_dtype),
                  "params": sum(p.numel() for p in trainer.policy.model.parameters()),
                  "settings": rlvr_settings(cfg)})
    try:
        step = 0
        while channel.wait() == "step":  # until the driver's 'stop'
            probe.reset()
            start = time.perf_counter()
            metrics = train_step(trainer, step)
            trainer.logger.log(step, metrics)
            elapsed = time.perf_counter() - start
            stages = {k.removeprefix("time/"): v for k, v in metrics.items()
                      if k.startswith("time/")}
            channel.send({"step": step, "step_s": elapsed, "stages": stages,
                          "tokens": probe.tokens, "reward": metrics["reward/mean"],
                          "accuracy": metrics["accuracy"], "peak_rss_mib": peak_rss_mib(),
                          **probe.extra})
            step += 1
    finally:
        trainer.logger.close()
        channel.send({"done": True, "peak_rss_mib": peak_rss_mib()})
        if trainer.rewards is not None:
            trainer.rewards.close()


def rlvr_settings(cfg) -> dict:
    algo = cfg.algorithm
    return {"algorithm": "grpo preset", "advantage": algo.advantage.name,
            "aggregation": algo.aggregation, "objective": algo.objective.name,
            "offpolicy_correction": algo.offpolicy is not None, "kl": algo.kl is not None,
            "model_dtype": cfg.model.dtype, "autocast": cfg.model.autocast,
            "micro_batch_size": cfg.optim.micro_batch_size, "betas": list(cfg.optim.betas),
            "rollout_batch_size": cfg.rollout.engine.batch_size, "decoder": cfg.rollout.engine.decoder,
            "update_forward": "packed (padding-free)" if packed_update(cfg) else "padded"}


def packed_update(cfg) -> bool:
    """Whether the update runs models/packed.py for this model (fast-path architectures)."""
    from transformers import AutoConfig

    from rlvr.models.fastpath import FAST_MODEL_TYPES
    from rlvr.models.loader import resolve_model_path

    model_type = AutoConfig.from_pretrained(resolve_model_path(cfg.model.name)).model_type
    return model_type in FAST_MODEL_TYPES


def _capture_rlvr_rollouts(trainer, probe: StepProbe, group_size: int) -> None:
    """Record each rollout's prompts and completions (token counts, prompt check)."""
    generate = trainer.engine.generate

    def recorded(rows, size, params, **kwargs):
        groups = generate(rows, size, params, **kwargs)
        samples = [s for g in groups for s in g.samples]
        probe.count([s.prompt_ids for s in samples], [s.completion_ids for s in samples],
                    group_size, prompt_once_per_group=True)
        probe.extra["row_ids"] = [g.row.row_id for g in groups]
        return groups

    trainer.engine.generate = recorded


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


# ---- the driver --------------------------------------------------------------------------------


def measure_peak(dtype: str, seconds: float = 3.0, size: int = 1024) -> float:
    """Best GFLOP/s of a square torch.matmul in ``dtype`` ('fp32'/'bf16') on this machine's
    threads, within about ``seconds`` (a slow bf16 matmul on AVX2 alone takes seconds, so the
    repeats stop at the budget; at least one timed repeat after the warm-up)."""
    import torch

    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    a = torch.randn(size, size, dtype=torch_dtype)
    b = torch.randn(size, size, dtype=torch_dtype)
    started = time.perf_counter()
    torch.matmul(a, b)  # warm-up
    best = float("inf")
    while best == float("inf") or time.perf_counter() - started < seconds:
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


class Worker:
    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        command = [sys.executable, __file__, "--worker", name, "--steps", str(args.steps),
                   "--max-new-tokens", str(args.max_new_tokens),
                   "--micro-batch", str(args.micro_batch), "--run-dir", args.run_dir,
                   "--dtype", args.dtype, "--rlvr-weights", args.rlvr_weights]
        if args.trl_gradient_checkpointing:
            command.append("--trl-gradient-checkpointing")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, cwd=ROOT)
        self.ready = self.receive()

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker exited (code {self.proc.wait()}); "
                               "its stderr is above")
        return json.loads(line)

    def step(self) -> dict:
        self.proc.stdin.write("step\n")
        self.proc.stdin.flush()
        return self.receive()

    def finish(self) -> dict:
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        done = self.receive()
        while "done" not in done:
            done = self.receive()
        self.proc.wait()
        return done


def summarise(ready: dict, steps: list[dict], done: dict | None, peak_gflops: float) -> dict:
    params = ready["params"]
    times = [s["step_s"] for s in steps]
    gen = [s["tokens"]["generated"] for s in steps]
    stage_names = sorted({k for s in steps for k in s["stages"]})
    update_mfu = [6 * params * s["tokens"]["trained"] / s["stages"]["update"] / (peak_gflops * 1e9)
                  for s in steps]
    step_mfu = [(6 * params * s["tokens"]["trained"] + 2 * params * s["tokens"]["generated"])
                / s["step_s"] / (peak_gflops * 1e9) for s in steps]
    rewards = [s["reward"] for s in steps]
    return {
        "steps": len(steps), "setup_s": round(ready["setup_s"], 1),
        "median_step_s": round(statistics.median(times), 2),
        "min_step_s": round(min(times), 2), "max_step_s": round(max(times), 2),
        "generated_tokens_per_s": round(sum(gen) / sum(times), 1),
        "median_stage_s": {k: round(statistics.median(s["stages"].get(k, 0.0) for s in steps), 2)
                           for k in stage_names},
        "mean_generated_tokens_per_step": round(statistics.fmean(gen), 1),
        "mean_trained_tokens_per_step": round(statistics.fmean(s["tokens"]["trained"]
                                                               for s in steps), 1),
        "peak_rss_mib": {k: round(v) for k, v in
                         (done or steps[-1])["peak_rss_mib"].items()},
        "reward_last5": round(statistics.fmean(rewards[-5:]), 4),
        "reward_first5": round(statistics.fmean(rewards[:5]), 4),
        "reward_per_step": [round(r, 4) for r in rewards],
        "step_s_per_step": [round(t, 2) for t in times],
        "mfu_update_median": round(statistics.median(update_mfu), 4),
        "mfu_step_median": round(statistics.median(step_mfu), 4),
        "params": params, "stop_ids": ready["stop_ids"], "autocast": ready["autocast"],
        "settings": ready["settings"],
    }


def check_identical_prompts(records: dict[str, list[dict]]) -> bool:
    """Both frameworks trained on the same rows, rendered to the same prompt tokens, each step."""
    pairs = zip(records["trl"], records["rlvr"])
    return all(a["row_ids"] == b["row_ids"] and a["prompts_digest"] == b["prompts_digest"]
               for a, b in pairs)


def versions() -> dict[str, str]:
    import torch
    import transformers
    import trl

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "trl": trl.__version__}


def build_result(args, peak, workers, records, done) -> dict:
    summary = {name: summarise(workers[name].ready, records[name], done.get(name), peak)
               for name in FRAMEWORKS if records[name]}
    result = {
        "command": "python benchmarks/vs_trl.py " + " ".join(sys.argv[1:]),
        "finished": bool(done), "steps_run": min(len(r) for r in records.values()),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": {"cpu": cpu_facts().as_dict()}, "versions": versions(),
        "work": {"model": MODEL, "task": "reasoning_gym chain_sum (quickstart task)",
                 "prompts_per_step": 4, "group_size": 8, "max_new_tokens": args.max_new_tokens,
                 "temperature": 1.0, "lr": 1e-5, "kl": None, "optimizer_steps_per_batch": 1,
                 "micro_batch": args.micro_batch, "dtype_flag": args.dtype_flag,
                 "dtype": args.dtype, "rlvr_rollout_weights": args.rlvr_weights,
                 "weights": "fp32" + (
                     " + bf16 autocast" if args.dtype == "bf16" else " (no autocast)")},
        f"peak_{args.dtype}_matmul_gflops": round(peak, 1),
        "identical_prompts_each_step": check_identical_prompts(records),
        **summary,
    }
    if len(summary) == 2:
        trl, rlvr = summary["trl"], summary["rlvr"]
        result["speedup_median_step"] = round(trl["median_step_s"] / rlvr["median_step_s"], 2)
        result["done_when"] = {
            "rlvr_median_at_most_quarter_of_trl": trl["median_step_s"] >= 4 * rlvr["median_step_s"],
            "rlvr_reward_last5_not_worse": rlvr["reward_last5"] >= trl["reward_last5"]}
    return result


def run_driver(args: argparse.Namespace) -> None:
    out = Path(args.out)
    peak = args.peak_gflops or measure_peak(args.dtype, args.peak_seconds)
    print(f"cpu: {cpu_facts().line()}\ndtype {args.dtype} (--dtype {args.dtype_flag}); "
          f"{args.dtype} matmul peak: {peak:.0f} GFLOP/s", flush=True)
    workers = {name: Worker(name, args) for name in FRAMEWORKS}  # started one after the other
    records: dict[str, list[dict]] = {name: [] for name in FRAMEWORKS}
    done: dict[str, dict] = {}
    started = time.perf_counter()
    try:
        for step in range(args.steps):
            if args.max_minutes and time.perf_counter() - started > 60 * args.max_minutes:
                print(f"--max-minutes {args.max_minutes} reached: stopping after {step} steps")
                break
            for name in FRAMEWORKS:
                record = workers[name].step()
                records[name].append(record)
                print(f"step {step} {name:4s} {record['step_s']:6.1f} s reward "
                      f"{record['reward']:.3f} stages "
                      f"{ {k: round(v, 1) for k, v in record['stages'].items()} }", flush=True)
            write_json(out, build_result(args, peak, workers, records, done))
        for name in FRAMEWORKS:
            done[name] = workers[name].finish()
    finally:
        for worker in workers.values():
            if worker.proc.poll() is None:
                worker.proc.kill()
    result = build_result(args, peak, workers, records, done)
    write_json(out, result)
    print(json.dumps({k: v for k, v in result.items() if k not in FRAMEWORKS}, indent=1))
    for name in FRAMEWORKS:
        brief = {k: v for k, v in result[name].items() if not k.endswith("per_step")}
        print(name, json.dumps(brief))


def write_json(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20,
                        help="step pairs (one TRL step then one rlvr step each)")
    parser.add_argument("--dtype", choices=DTYPES, default="auto",
                        help="compute precision of both frameworks: auto = bf16 where the CPU "
                        "has fast bf16 (AVX512-BF16/AMX), else fp32")
    parser.add_argument("--peak-seconds", type=float, default=3.0,
                        help="time budget of the matmul peak measurement (dtype used only)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rlvr-weights", choices=["full", "int8", "onednn"], default="full",
                        help="rlvr's rollout.engine.weights (int8: W8A8 decode with the "
                             "off-policy correction; TRL has no counterpart)")
    parser.add_argument("--micro-batch", type=int, default=16,
                        help="sequences per forward/backward, both frameworks (32 = one pass)")
    parser.add_argument("--quick", action="store_true", help="2 steps of 16 new tokens")
    parser.add_argument("--out", default=None, help=f"result JSON (default {RESULT})")
    parser.add_argument("--peak-gflops", type=float, default=None,
                        help="skip the matmul peak measurement and use this peak (GFLOP/s)")
    parser.add_argument("--trl-gradient-checkpointing", action="store_true",
                        help="TRL's default; off by default here because it is slower on CPU")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="start no new step pair after this many minutes (partial result)")
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.max_new_tokens = 2, 16
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    args.dtype_flag = args.dtype  # as given; args.dtype is what runs ('fp32' or 'bf16')
    args.dtype = choose_dtype(args.dtype, cpu_facts())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.run_dir = args.run_dir or str(ROOT / "runs" / f"vs_trl-{stamp}")
    args.out = args.out or str(ROOT / "runs" / "vs_trl_quick.json" if args.quick else RESULT)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker == "rlvr":
        run_rlvr_worker(args)
    elif args.worker == "trl":
        run_trl_worker(args)
    else:
        run_driver(args)


if __name__ == "__main__":
    main()
