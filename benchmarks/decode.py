"""Decode throughput of rlvr's static-cache loop against its bounds, per weight format.

    .venv/bin/python benchmarks/decode.py [--weights full,int8,onednn] [--rows 64] [--tokens 32]
    .venv/bin/python benchmarks/decode.py --weights full,full+compile --label compile

Decodes the quickstart's prompts (chain_sum, 8 prompts x 8 samples) with the embedded
SmolLM2-135M-Instruct, no stop tokens (every row writes every token, so the work is exactly
rows x tokens), and reports generated tokens/s with two bounds per decode step:

- weight read: the bytes of every matrix the step multiplies (layers and LM head, in the format
  decoded) at the machine's measured streaming read bandwidth (a 256 MiB ``sum``);
- compute: 2 x matmul parameters x live rows at the measured matmul peak of the dtype used
  (fp32/bf16: best 1024^3 ``torch.matmul``; int8: best 1024^3 ``torch._int_mm``).

A step cannot be faster than the larger of the two (the roofline); ``vs_bound`` is the measured
step time over it. Writes ``results/decode_<label>.json`` with the CPU facts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from rlvr.memory import tune_allocator  # noqa: E402

tune_allocator()  # as `rlvr train` does, before torch is imported

import torch  # noqa: E402

from rlvr.hardware import cpu_facts  # noqa: E402


def best_seconds(fn, budget_s: float = 2.0, min_reps: int = 3) -> float:
    fn()
    best, start, reps = float("inf"), time.perf_counter(), 0
    while reps < min_reps or time.perf_counter() - start < budget_s:
        t = time.perf_counter()
        fn()
        best, reps = min(best, time.perf_counter() - t), reps + 1
    return best


def peaks() -> dict[str, float]:
    """GFLOP/s (GOP/s for int8) of 1024^3 products, and streaming read GB/s."""
    a = torch.randn(1024, 1024)
    q = torch.randint(-127, 127, (1024, 1024), dtype=torch.int8)
    big = torch.randn(64 * 2**20)  # 256 MiB
    flops = 2 * 1024**3
    return {"fp32_gflops": flops / best_seconds(lambda: a @ a) / 1e9,
            "bf16_gflops": flops / best_seconds(lambda: a.bfloat16() @ a.bfloat16(), 1.0) / 1e9,
            "int8_gops": flops / best_seconds(lambda: torch._int_mm(q, q)) / 1e9,
            "read_gbs": big.numel() * 4 / best_seconds(lambda: big.sum()) / 1e9}


def quickstart_prompts(tokenizer) -> list[list[int]]:
    pairs = [(12, 34), (5, 77), (81, 9), (40, 40), (3, 58), (66, 21), (7, 7), (90, 11)]
    out = []
    for a, b in pairs:
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": f"What is {a} + {b}? Reply with just the number."}],
            add_generation_prompt=True)
        out.append(list(ids["input_ids"]) if not isinstance(ids, list) else ids)
    return out


def decode_model(policy, weights: str):
    if weights == "int8":
        from rlvr.rollout.int8 import Int8Copy

        return Int8Copy(policy.model).model
    if weights == "onednn":
        from rlvr.rollout.onednn import OneDNNCopy

        return OneDNNCopy(policy.model, policy.autocast_dtype).model
    return policy.model


def matmul_params(model) -> int:
    """Parameters of every matrix a decode step multiplies (the LM head included)."""
    total = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) or type(module).__name__ in (
                "Int8Linear", "OneDNNLinear"):
            total += module.in_features * module.out_features
    return total


def run(weights: str, rows: int, tokens: int, facts_peaks: dict, autocast: str) -> dict:
    from rlvr.configs.run import ModelConfig
    from rlvr.models.fastpath import Decoder
    from rlvr.models.loader import load_policy
    from rlvr.rollout import decode
    from rlvr.rollout.decode import Sampler, static_decode

    policy = load_policy(ModelConfig(autocast=autocast))
    prompts = quickstart_prompts(policy.tokenizer)
    group = max(1, rows // len(prompts))
    model = decode_model(policy, weights.split("+")[0])
    dec = Decoder(model)

    step = decode.compiled_decode_step() if "+compile" in weights else decode.decode_step

    def once(step=step):
        sampler = Sampler(1.0, 1.0, False, [], seeds=list(range(len(prompts))),
                          group_size=group)
        with policy.autocast():
            return static_decode(dec, prompts, group, tokens, sampler,
                                 policy.tokenizer.pad_token_id, torch.device("cpu"), step)

    extra = {}
    if "+compile" in weights:  # e.g. full+compile: eager tokens first, for the equivalence
        eager_tokens = once(decode.decode_step).tokens_NT
        started = time.perf_counter()
        same = once().tokens_NT
        extra = {"compile_first_call_s": time.perf_counter() - started,
                 "tokens_equal_to_eager": bool(torch.equal(same, eager_tokens)),
                 "token_agreement": float((same == eager_tokens).float().mean())}
    seconds = best_seconds(once, budget_s=0.0, min_reps=3)
    n_rows = group * len(prompts)
    params = matmul_params(model)
    dtype = "int8" if weights.startswith("int8") else ("bf16" if policy.autocast_dtype else "fp32")
    bytes_per = {"int8": 1, "bf16": 2, "fp32": 4}[dtype]
    peak = facts_peaks["int8_gops" if dtype == "int8" else f"{dtype}_gflops"] * 1e9
    read_s = params * bytes_per / (facts_peaks["read_gbs"] * 1e9)
    compute_s = 2 * params * n_rows / peak
    step_s = seconds / tokens  # the prefill included: a slight overestimate of a step
    return {"weights": weights, "matmul_dtype": dtype, "rows": n_rows, "tokens": tokens,
            "seconds": seconds, "tokens_per_s": n_rows * tokens / seconds,
            "step_ms": step_s * 1e3, "bound_weight_read_ms": read_s * 1e3,
            "bound_compute_ms": compute_s * 1e3,
            "vs_bound": step_s / max(read_s, compute_s), "matmul_params": params, **extra}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", default="full,int8")
    p.add_argument("--rows", type=int, default=64)
    p.add_argument("--tokens", type=int, default=32)
    p.add_argument("--autocast", default="off", choices=["off", "auto", "bf16"])
    p.add_argument("--label", default=None, help="results/decode_<label>.json (default: dtype)")
    args = p.parse_args()
    facts = cpu_facts()
    measured = peaks()
    print(facts.line())
    print(" ".join(f"{k}={v:.1f}" for k, v in measured.items()))
    results = []
    for weights in args.weights.split(","):
        r = run(weights, args.rows, args.tokens, measured, args.autocast)
        results.append(r)
        print(f"{weights:5s} ({r['matmul_dtype']}): {r['tokens_per_s']:.0f} tok/s, step "
              f"{r['step_ms']:.1f} ms; bounds: weight read {r['bound_weight_read_ms']:.1f} ms, "
              f"compute {r['bound_compute_ms']:.1f} ms -> {r['vs_bound']:.2f}x the bound")
    out = HERE / "results" / f"decode_{args.label or args.autocast}.json"
    out.write_text(json.dumps({"cpu": facts.as_dict(), "peaks": measured, "command":
                               " ".join(sys.argv), "date_utc": time.strftime(
                                   "%Y-%m-%d %H:%M", time.gmtime()), "results": results},
                              indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
