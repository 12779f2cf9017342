"""Checkpoint, resume, preemption and step guards around the loop (docs/reliability.md).

The loop calls ``RunSession(t, resume)`` once, then per step ``observe(step, metrics)`` before
logging and ``end_step(step)`` after it. ``end_step`` aborts after K non-finite steps in a row,
saves a checkpoint every ``checkpoint.every`` steps, at the last step and on SIGTERM, and raises
``Preempted`` after a preemption checkpoint, and says whether the wall budget
(``max_wall_minutes``, trainer/wall_budget.py) ends the run there (a checkpoint is saved then).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rlvr.config import dump_config
from rlvr.runs import checkpoint as ckpt
from rlvr.trainer import determinism
from rlvr.runs.faultpoints import fault_point
from rlvr.trainer.wall_budget import WallBudget
from rlvr.trainer.guards import NonFiniteAbort, NonFiniteGuard, optimizer_finite, tensors_finite
from rlvr.runs.identity import build_identity, mismatches, respelled_keys, version_changes
from rlvr.runs.resume import (gather_full_state, read_identity, restore_trainer, truncate_jsonl,
                              write_trainer)
from rlvr.runs.signals import PreemptionFlag, Preempted
from rlvr.models.saved import weights_meta

CKPT_DIR = ckpt.CKPT_DIR


if TYPE_CHECKING:  # the trainer imports nothing from runs/
    from rlvr.trainer.trainer import Trainer


def _quiet(message: str) -> None:
    """Ranks other than 0 print nothing (rank 0 says it once)."""


class ResumeRefused(ValueError):
    """The checkpoint was trained on another config, dataset or tokenizer."""


def refuse_fresh_over_checkpoints(run_dir: Path) -> None:
    """A fresh run must not silently mix with an earlier run's checkpoints."""
    if ckpt.list_steps(run_dir / CKPT_DIR):
        raise ResumeRefused(f"{run_dir} already holds checkpoints ({run_dir / CKPT_DIR}); continue "
                            f"it with `rlvr train --resume {run_dir}` or choose another log.run_dir")


class RunSession:
    def __init__(self, t: Trainer, resume: bool, log: Callable[[str], None] = print) -> None:
        self.t, self.log = t, (log if t.dist.main else _quiet)
        self.root = Path(t.run_dir) / CKPT_DIR
        self.guard = NonFiniteGuard(t.cfg.reliability.max_consecutive_nonfinite)
        self.identity = build_identity(t.cfg.model_dump(mode="json"), t.task.train_rows(),
                                       t.policy.tokenizer)
        # hashes the frozen base weights of a LoRA policy: once, before a resume loads anything
        self.weights = weights_meta(t.policy.model, t.cfg.model.name, t.cfg.model.lora)
        self.last_saved: int | None = None
        self.wall = WallBudget(t.cfg.max_wall_minutes)  # a resume sets the earlier time
        try:
            self.start_step = self._resume() if resume else 0
        except BaseException:
            determinism.restore()
            raise
        self.flag = PreemptionFlag()

    def load_newest(self) -> int:
        """Restore the newest checkpoint that verifies (step 0 and nothing loaded when there is
        none); returns the step to continue from."""
        self.start_step = self._resume()
        return self.start_step

    def _resume(self) -> int:
        if self.t.dist.main:  # the others wait, then read the same directory
            ckpt.remove_partial(self.root)
        self.t.dist.barrier()
        found = ckpt.newest_valid(self.root, self.t.cfg.checkpoint.verify, self.log)
        if found is None:
            self.log(f"rlvr: no complete checkpoint in {self.root}; starting from step 0")
            self._write_config()
            self._truncate_logs(0)
            return 0
        step, directory = found
        problems = self._check_identity(directory)
        self._write_config()
        state = restore_trainer(self.t, directory, reset_data="dataset" in problems)
        self.guard.load_state_dict(state["counters"]["nonfinite"])
        self.wall.prior_s = float(state["counters"].get("train_wall_s", 0.0))  # older: none
        self._truncate_logs(step)
        self.last_saved = step
        self.log(f"rlvr: resumed from {directory} at step {step}")
        return step

    def _write_config(self) -> None:
        if self.t.dist.main:
            (Path(self.t.run_dir) / "config.yaml").write_text(dump_config(self.t.cfg))

    def _check_identity(self, directory: Path) -> dict[str, str]:
        saved = read_identity(directory)
        problems = mismatches(saved, self.identity)
        allowed = set(self.t.cfg.checkpoint.allow_mismatch)
        refused = [k for k in problems if k not in allowed]
        if refused:
            raise ResumeRefused(
                f"cannot resume from {directory}: {'; '.join(problems[k] for k in refused)}. "
                f"To resume anyway pass --allow-resume-mismatch {','.join(refused)} "
                f"(checkpoint.allow_mismatch)")
        for key, text in problems.items():
            self.log(f"rlvr: warning: resuming although the {text}"
                     + ("; the data position restarts at epoch 0" if key == "dataset" else ""))
        respelled = respelled_keys(saved["config"], self.identity["config"])
        if respelled:
            self.log("rlvr: note: the checkpoint's config was written by an older rlvr; these keys "
                     f"are read in today's spelling or at today's defaults: {', '.join(respelled[:8])}"
                     + (" ..." if len(respelled) > 8 else ""))
        changed = version_changes(saved, self.identity)
        if changed:
            self.log(f"rlvr: warning: library versions changed since the checkpoint: "
                     f"{', '.join(changed)}; the resumed run may not be bit-identical")
        return problems

    def _truncate_logs(self, step: int) -> None:
        if not self.t.dist.main:
            return
        for name in ("metrics.jsonl", "samples.jsonl"):
            truncate_jsonl(Path(self.t.run_dir) / name, step)
        self.t.logger.resume_at(step)

    def observe(self, step: int, metrics: dict[str, float]) -> None:
        self.guard.observe(step, metrics)

    def out_of_time(self) -> bool:
        """The wall budget is spent (the same answer on every rank)."""
        return self.t.dist.any(self.wall.reached())

    def end_step(self, step: int) -> bool:
        """After step ``step`` was logged: guard, checkpoint when due, stop when preempted;
        returns True when the wall budget ends the run after this step."""
        t, done = self.t, step + 1
        self.guard.check(t.policy.model, t.optimizer)
        every = t.cfg.checkpoint.every
        preempted = t.dist.any(self.flag.requested)  # every rank saves, or none
        out_of_time = done < t.cfg.steps and self.out_of_time()
        if preempted or out_of_time or done == t.cfg.steps or (every and done % every == 0):
            self.save(done)
        fault_point("step_end")
        if preempted:
            raise Preempted(f"preempted: checkpoint of step {done} saved in {self.root}; continue "
                            f"with `rlvr train --resume {t.run_dir}`")
        return out_of_time

    def save(self, step: int) -> None:
        if self.last_saved == step:
            return
        t = self.t
        finite = tensors_finite(t.policy.model.parameters()) and optimizer_finite(t.optimizer)
        if t.dist.any(not finite):  # a shard on any rank
            raise NonFiniteAbort(f"step {step}: weights or optimizer moments are not finite; "
                                 f"refusing to checkpoint them (the previous checkpoint is kept)")
        counters = {"nonfinite": self.guard.state_dict(), "prompts": t.prompts.state(),
                    "train_wall_s": self.wall.elapsed_s()}
        full = gather_full_state(t)  # collective under fsdp2
        try:
            if t.dist.main:  # rank 0 alone writes; the others wait for it
                write = write_trainer(t, step, counters, self.identity, self.weights, full)
                ckpt.commit(self.root, step, write, t.cfg.checkpoint.keep_last,
                            t.cfg.checkpoint.verify)
            t.dist.barrier()
        except OSError as err:
            previous = f"step {self.last_saved}" if self.last_saved is not None else "none"
            raise ckpt.CheckpointError(
                f"could not write the checkpoint of step {step} in {self.root}: {err} "
                f"(the previous checkpoint, {previous}, is intact)") from err
        self.last_saved = step

    def close(self) -> None:
        self.flag.close()
        determinism.restore()
