"""On-policy distillation end to end on tiny models: 3 steps from another tiny teacher
(``mode: add``), a copy of the student as teacher (``mode: only``: zero reverse KL, no learning
signal), and a teacher with another vocabulary refused in one line before any step."""

from __future__ import annotations

import json
import math

from rlvr import cli
from tiny import make_tiny_model_dir, tiny_tokenizer

TINY_RUN = ["steps=3", "task.train_size=40", "task.eval_size=2", "rollout.prompts_per_step=2",
            "rollout.group_size=2", "rollout.max_new_tokens=6", "log.progress=false",
            "optim.micro_batch_size=3", "eval.after=false", "rollout.temperature=0.8"]


def run(student, teacher, run_dir, *extra) -> tuple[int, list[dict]]:
    code = cli.main(["train", f"model.name={student}", f"log.run_dir={run_dir}", *TINY_RUN,
                     f"algorithm.distill.teacher={teacher}", *extra])
    path = run_dir / "metrics.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return code, lines


def test_three_steps_from_a_tiny_teacher(tiny_model_dir, tmp_path):
    teacher = make_tiny_model_dir(tmp_path / "teacher", seed=5, hidden=48)
    code, lines = run(tiny_model_dir, teacher, tmp_path / "run", "algorithm.distill.mode=add",
                      "algorithm.distill.coef=0.5")
    assert code == 0
    assert [m["step"] for m in lines] == [0, 1, 2]
    for m in lines:
        assert math.isfinite(m["distill/reverse_kl"]) and m["distill/reverse_kl"] != 0.0
        assert m["distill/teacher_logprob"] < 0
        assert m["grad_norm"] > 0
    assert (tmp_path / "run" / "final" / "config.json").is_file()
    # that run's directory (its newest checkpoint) is a teacher too: the trained student
    code, lines = run(tiny_model_dir, tmp_path / "run", tmp_path / "from-ckpt", "steps=1",
                      "algorithm.distill.mode=only")
    assert code == 0 and len(lines) == 1 and lines[0]["distill/reverse_kl"] != 0.0


def test_a_copy_of_the_student_as_teacher_gives_zero_reverse_kl(tiny_model_dir, tmp_path):
    code, lines = run(tiny_model_dir, tiny_model_dir, tmp_path / "run",
                      "algorithm.distill.mode=only", "optim.weight_decay=0")
    assert code == 0 and len(lines) == 3
    # Same weights, same forward: the logprobs agree bit for bit, so every advantage is 0, the
    # gradient is 0 and (no weight decay) the student never leaves the teacher.
    for m in lines:
        assert m["distill/reverse_kl"] == 0.0 and m["grad_norm"] == 0.0 and m["loss"] == 0.0
        assert m["distill/teacher_logprob"] < 0


def test_a_teacher_with_another_vocabulary_stops_before_training(tiny_model_dir, tmp_path,
                                                                  capsys):
    teacher = make_tiny_model_dir(tmp_path / "teacher", seed=1)
    tok = tiny_tokenizer()
    tok.add_tokens(["<think>"])
    tok.save_pretrained(teacher)
    code, lines = run(tiny_model_dir, teacher, tmp_path / "run")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and lines == []
    assert err[-1].startswith("rlvr: error: algorithm.distill.teacher=")
    assert "'<think>' for the teacher" in err[-1] and str(tiny_model_dir) in err[-1]
