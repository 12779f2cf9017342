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
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vs_trl_common import (FRAMEWORKS, MODEL, RESULT, ROOT, Channel, StepProbe, load_work_config,
                           peak_rss_mib)
from vs_trl_trl import run_trl_worker

from rlvr.hardware import DTYPES, choose_dtype, cpu_facts


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
    parser.add_argument("--rlvr-weights", choices=["auto", "full", "int8", "onednn"],
                        default="auto",
                        help="rlvr's rollout.engine.weights, as in the quickstart config (auto: "
                             "oneDNN-packed copy of the same weights when decoding in fp32 on a "
                             "CPU; int8: W8A8 decode with the off-policy correction)")
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
