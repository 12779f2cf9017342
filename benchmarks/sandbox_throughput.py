"""Sandbox throughput and false-timeout rate of HumanEval canonical solutions under load.

    .venv/bin/python benchmarks/sandbox_throughput.py [--workers 4] [--rounds 2] [--timeout 4]

Every HumanEval canonical solution runs in its own fresh jail (full level: bubblewrap, per-slot
uid, rlimits, seccomp) through the same path the reward uses (trusted driver + check program).
``workers`` jails run at once; on a 2-core machine more workers than cores is "under load".
Reports runs per second and the share of canonical solutions that did not PASS (any TIMEOUT is
a false timeout: the solution is correct).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from rlvr.data.code_tasks import humaneval_problems
from rlvr.hardware import cpu_facts
from rlvr.sandbox import Sandbox, SandboxConfig, Verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args()
    sandbox = Sandbox(SandboxConfig(timeout_s=args.timeout, slots=max(args.workers, 1)))
    problems = humaneval_problems() * args.rounds

    def run(problem: dict) -> Verdict:
        source = problem["prompt"] + problem["canonical_solution"]
        return sandbox.run_program(source, problem["entry_point"], problem["test"],
                                   problem["prompt"]).verdict

    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        verdicts = list(pool.map(run, problems))
    wall = time.perf_counter() - start
    counts = Counter(v.value for v in verdicts)
    report = {"level": sandbox.level, "workers": args.workers, "runs": len(verdicts),
              "wall_s": round(wall, 2), "runs_per_s": round(len(verdicts) / wall, 2),
              "verdicts": dict(counts),
              "false_timeout_rate": counts.get("TIMEOUT", 0) / len(verdicts),
              "non_pass_rate": 1 - counts.get("PASS", 0) / len(verdicts),
              "cpu": cpu_facts().as_dict()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
