"""``rlvr init DIR``: a small project to start from - a config, a reward function module of your
own and a 20-row JSONL task - that ``rlvr train DIR/config.yaml`` trains at once.

Paths inside the config are written as DIR/..., relative to the directory ``rlvr init`` ran in
(every path in an rlvr config is relative to the working directory)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

NUM_ROWS = 20

REWARD_PY = '''"""Your reward function. rlvr calls ``score(completion, row)`` for every sampled completion
(in its verifier worker processes, under a deadline). ``row.prompt`` is the question and
``row.reference`` the answer from data.jsonl; return ``RewardResult.scored(value, verdict)``.

Edit it freely: the config names it as ``{reward_path}``.
"""

import re

from rlvr.types import RewardResult, TaskRow


def score(completion: str, row: TaskRow) -> RewardResult:
    numbers = re.findall(r"-?\\d+", completion)
    if not numbers:
        return RewardResult.scored(0.0, "no_number")
    if numbers[-1] == row.reference.strip():
        # Full marks for the right number; a little less when it is buried in a long reply.
        return RewardResult.scored(1.0 if len(completion) <= 40 else 0.8, "correct")
    return RewardResult.scored(0.0, "wrong")
'''

CONFIG_YAML = """# A small rlvr project made by `rlvr init`. Train it:   rlvr train {config_plain}
# Paths are relative to the directory you run rlvr from (like every path in an rlvr config).
# Every key can be overridden on the command line, e.g. `steps=20 optim.lr=2e-5`.
seed: 0
steps: 10
model:
  name: smollm2-135m-instruct
task:
  kind: file
  path: {data}
  prompt_field: prompt
  reference_field: reference
  verifier: numeric           # held-out accuracy: the answer must equal the reference as a number
  instruction: "Reply with just the number."
  eval_size: 4                # the last 4 rows are held out; the other 16 are trained on
reward:
  terms:
    - {{name: python, path: {reward}, label: my_reward}}
rollout:
  prompts_per_step: 4
  group_size: 4
  max_new_tokens: 16
algorithm: grpo
optim:
  lr: 1.0e-5
checkpoint:
  every: 0                    # one resumable checkpoint at the end (and on SIGTERM)
  keep_last: 1
log:
  run_dir: {run_dir}
"""


def data_rows(seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(NUM_ROWS):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        rows.append({"prompt": f"What is {a} + {b}?", "reference": str(a + b)})
    return rows


def write_project(directory: str | Path, force: bool = False) -> dict[str, Path]:
    """Write the project files into ``directory``; refuses to overwrite unless ``force``."""
    root = Path(os.path.normpath(directory))
    files = {name: root / name for name in ("config.yaml", "reward.py", "data.jsonl")}
    existing = [str(p) for p in files.values() if p.exists()]
    if existing and not force:
        raise FileExistsError(f"not overwriting {', '.join(existing)} (pass --force to replace)")
    root.mkdir(parents=True, exist_ok=True)
    reward_path = f"{files['reward.py'].as_posix()}:score"
    quoted = {key: json.dumps(value) for key, value in {  # JSON strings are valid YAML scalars
        "data": files["data.jsonl"].as_posix(), "reward": reward_path,
        "run_dir": (root / "runs" / "first").as_posix()}.items()}
    files["config.yaml"].write_text(CONFIG_YAML.format(config_plain=files["config.yaml"], **quoted))
    files["reward.py"].write_text(REWARD_PY.replace("{reward_path}", reward_path))
    files["data.jsonl"].write_text("".join(json.dumps(r) + "\n" for r in data_rows()))
    return files
