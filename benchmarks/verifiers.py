"""Verification throughput of the reward worker pool, and the cost of one pathological sample.

    .venv/bin/python benchmarks/verifiers.py [--workers 2] [--samples 2000] [--deadline 2]

Measures, through the real pool (rewards/pool.py: forkserver workers, deadline, memory cap):

1. math: GSM8K-style completions (boxed / "Answer:" / last number, right and wrong), and a
   LaTeX mix that needs math-verify (\\sqrt, \\frac with symbols, trigonometry);
2. SQL: the shipped shop task, gold and wrong queries against the SQLite file, read-only;
3. a batch of normal math samples with and without one sample that stalls sympy (math-verify's
   own alarm disabled, so only the pool deadline can stop it): the difference is the delay one
   pathological sample adds to a step, to compare with the deadline.
"""

from __future__ import annotations

import argparse
import time

from rlvr.configs.task import SqlTaskConfig
from rlvr.data.sql_tasks import SqlTask
from rlvr.configs.reward import MathPolicyConfig
from rlvr.rewards.math import MathVerifier
from rlvr.rewards.pool import WorkerPool
from rlvr.types import TaskRow

LATEX = [("\\boxed{2\\sqrt{2}}", "\\sqrt{8}"), ("\\boxed{\\frac{x+2}{7}}", "\\frac{x}{7}+\\frac{2}{7}"),
         ("\\boxed{\\sec^2 y}", "\\tan^2 y+1"), ("\\boxed{(x+1)^2}", "x^2+2x+1"),
         ("\\boxed{\\frac{\\pi}{3}}", "\\frac{1}{3}\\pi"), ("\\boxed{\\sqrt{3}}", "\\sqrt{2}")]
STALL = "\\boxed{x^{10^{10}} - x^{10^{10}} + 5^{5^{5^{5}}}}"


def gsm8k_items(n: int) -> list[tuple[str, TaskRow]]:
    forms = ["Reasoning...\nSo the answer is \\boxed{{{a}}}.", "Step 1: add.\nAnswer: {a}",
             "We compute {b} + {c} and get {a}", "<think>easy</think><answer>{a}</answer>"]
    items = []
    for i in range(n):
        gold = 10 + i % 997
        answer = gold if i % 3 else gold + 1  # two thirds right
        text = forms[i % len(forms)].format(a=f"{answer:,}" if i % 7 == 0 else answer, b=i, c=gold - i)
        items.append((text, TaskRow(f"m{i}", "q", str(gold))))
    return items


def latex_items(n: int) -> list[tuple[str, TaskRow]]:
    return [(LATEX[i % len(LATEX)][0], TaskRow(f"l{i}", "q", LATEX[i % len(LATEX)][1])) for i in range(n)]


def sql_items(n: int) -> tuple[SqlTask, list[tuple[str, TaskRow]]]:
    task = SqlTask(SqlTaskConfig())
    rows = task.train_rows()
    items = []
    for i in range(n):
        row = rows[i % len(rows)]
        query = row.metadata["gold_sql"] if i % 2 else "SELECT name FROM customers LIMIT 3"
        items.append((f"```sql\n{query}\n```", row))
    return task, items


def throughput(pool: WorkerPool, verifier, items) -> tuple[float, float]:
    started = time.perf_counter()
    results = pool.map(verifier, items)
    wall = time.perf_counter() - started
    assert all(r.error is None for r in results), [r.error for r in results if r.error][:3]
    return len(items) / wall, sum(r.score or 0.0 for r in results) / len(results)


def pathological_delay(pool: WorkerPool, batch: int) -> tuple[float, float, str]:
    verifier = MathVerifier(MathPolicyConfig(symbolic_timeout_s=600))
    items = gsm8k_items(batch)
    pool.map(verifier, items[:8])  # warm
    started = time.perf_counter()
    pool.map(verifier, items)
    clean = time.perf_counter() - started
    started = time.perf_counter()
    results = pool.map(verifier, [(STALL, TaskRow("p", "q", "5"))] + items)
    with_one = time.perf_counter() - started
    return clean, with_one, results[0].verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--deadline", type=float, default=2.0)
    args = parser.parse_args()
    started = time.perf_counter()
    with WorkerPool(args.workers, args.deadline, 1024) as pool:
        pool.map(MathVerifier(), gsm8k_items(4))
        print(f"pool start + first batch: {time.perf_counter() - started:.2f} s")
        rows = [("math, GSM8K-style (exact paths)",
                 *throughput(pool, MathVerifier(), gsm8k_items(args.samples))),
                ("math, LaTeX needing math-verify",
                 *throughput(pool, MathVerifier(), latex_items(args.samples // 4)))]
        sql_task, items = sql_items(args.samples // 2)
        rows.append(("SQL, shop task (gold / wrong queries)",
                     *throughput(pool, sql_task.verifier, items)))
        clean, with_one, verdict = pathological_delay(pool, 64)
    print(f"\n{args.workers} workers, deadline {args.deadline} s\n")
    print("| workload | samples/s | mean score |\n|---|---|---|")
    for name, rate, mean in rows:
        print(f"| {name} | {rate:,.0f} | {mean:.2f} |")
    print(f"\n64 GSM8K-style samples: {clean:.3f} s; the same plus one sympy stall: {with_one:.3f} s "
          f"(added {with_one - clean:.3f} s, deadline {args.deadline} s; the stall scored "
          f"'{verdict}')")


if __name__ == "__main__":
    main()
