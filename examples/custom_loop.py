"""Your own RL loop on rlvr's Python primitives (rlvr.Session; docs/scaling.md "Your own loop").

    python examples/custom_loop.py --steps 10                        # SmolLM2, the quickstart task
    python examples/custom_loop.py --model DIR task.kind=file task.path=rows.jsonl
    torchrun --nproc-per-node 2 examples/custom_loop.py --steps 10   # unchanged on 2 ranks

Any config key can follow as key=value; --resume continues the run directory's newest checkpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import rlvr

QUICKSTART = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct",
                        help="an embedded model name or a Hugging Face model directory")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--config", default=str(QUICKSTART), help="YAML config ('' for none)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("overrides", nargs="*", help="key=value config overrides")
    args = parser.parse_args(argv)
    overrides = [f"model.name={args.model}", f"steps={args.steps}",
                 "log.run_dir=runs/custom_loop", *args.overrides]
    with rlvr.Session.from_config(args.config or None, overrides, resume=args.resume) as s:
        for step in range(s.step, args.steps):
            groups = s.sample()  # this rank's groups of completions
            s.score(groups)  # rewards, in place
            metrics = s.forward_backward(groups)  # advantages, loss, gradients
            metrics.update(s.optim_step())  # clip, AdamW, LR schedule; the engine gets weights
            s.log(metrics)  # RUN_DIR/metrics.jsonl (rank 0)
            if s.trainer.dist.main:
                print(f"step {step}: reward {metrics['reward/mean']:.3f} "
                      f"loss {metrics['loss']:+.4f} grad_norm {metrics['grad_norm']:.3f}",
                      flush=True)
        path = s.save()
        if s.trainer.dist.main:
            print(f"checkpoint: {path}")


if __name__ == "__main__":
    main()
