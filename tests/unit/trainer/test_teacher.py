"""The distillation teacher on tiny real models: frozen, refused when its tokenizer differs from
the student's or it does not load, and a copy of the student that gives zero reverse KL and,
with ``mode: only``, exactly zero gradient."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from rlvr.algorithms import build_algorithm
from rlvr.configs.algorithm import AlgorithmConfig
from rlvr.configs.base import ConfigError
from rlvr.configs.distill import DistillConfig
from rlvr.configs.run import ModelConfig
from rlvr.models.loader import load_policy
from rlvr.trainer.teacher import build_teacher, load_teacher, teacher_scorer
from rlvr.trainer.update import StatSums, StepSettings, accumulate_gradients, update_stats
from batches import grouped_batch
from tiny import make_tiny_model_dir, tiny_tokenizer

SETTINGS = StepSettings(micro_batch_size=4, max_grad_norm=1.0, max_new_tokens=5, temperature=0.7)


def model_cfg(path) -> ModelConfig:
    return ModelConfig(name=str(path), device="cpu", autocast="off")


@pytest.fixture(scope="module")
def student(tiny_model_dir):
    return load_policy(model_cfg(tiny_model_dir))


def test_teacher_is_frozen_and_off_without_distill(student, tiny_model_dir):
    assert build_teacher(None, model_cfg(tiny_model_dir), student) is None
    teacher = build_teacher(DistillConfig(teacher=str(tiny_model_dir)), model_cfg(tiny_model_dir),
                            student)
    assert not teacher.model.training
    assert not any(p.requires_grad for p in teacher.model.parameters())
    assert teacher.model is not student.model and teacher.policy.device == student.device


def test_a_teacher_with_another_vocab_is_refused_naming_both_and_the_token(student, tmp_path,
                                                                            tiny_model_dir):
    other = make_tiny_model_dir(tmp_path / "teacher", seed=1)
    tok = tiny_tokenizer()
    tok.add_tokens(["<think>"])
    tok.save_pretrained(other)
    with pytest.raises(ConfigError) as err:
        load_teacher(DistillConfig(teacher=str(other)), model_cfg(tiny_model_dir), student)
    line = str(err.value)
    assert "\n" not in line and str(other) in line and str(tiny_model_dir) in line
    assert "token id 101 is '<none>' for the student, '<think>' for the teacher" in line


def test_a_teacher_with_another_special_token_is_refused(student, tmp_path, tiny_model_dir):
    other = make_tiny_model_dir(tmp_path / "teacher", seed=1)
    tok = tiny_tokenizer()
    tok.pad_token = "<unk>"  # same vocab, another pad token
    tok.save_pretrained(other)
    with pytest.raises(ConfigError, match="special token pad_token is '<pad>' for the student, "
                                          "'<unk>' for the teacher"):
        load_teacher(DistillConfig(teacher=str(other)), model_cfg(tiny_model_dir), student)


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_a_teacher_that_does_not_load_is_one_line(where, student, tmp_path, tiny_model_dir):
    path = tmp_path / "nothing"
    if where == "empty":
        path.mkdir()
    with pytest.raises(ConfigError) as err:
        load_teacher(DistillConfig(teacher=str(path)), model_cfg(tiny_model_dir), student)
    line = str(err.value)
    assert line.startswith(f"algorithm.distill.teacher={str(path)!r}: cannot load the teacher")
    assert "\n" not in line
    assert ("no such directory" if where == "missing" else "neither") in line


def test_teacher_scores_at_the_sampling_temperature(student, tiny_model_dir):
    from rlvr.models.logprobs import completion_logprobs

    teacher = build_teacher(DistillConfig(teacher=str(tiny_model_dir)), model_cfg(tiny_model_dir),
                            student)
    batch = grouped_batch(vocab=90)
    got_NT = teacher_scorer(teacher, SETTINGS)(batch)
    with torch.no_grad():
        want_NT, _ = completion_logprobs(student.model, batch, 0.7)
        at_one_NT, _ = completion_logprobs(student.model, batch, 1.0)
    assert torch.allclose(got_NT, want_NT, atol=1e-6)
    assert not torch.allclose(got_NT, at_one_NT, atol=1e-3)


def test_a_copy_of_the_student_gives_zero_kl_and_zero_gradient(tiny_model_dir):
    student = load_policy(model_cfg(tiny_model_dir))
    student.model.train()
    cfg = AlgorithmConfig(distill=DistillConfig(teacher=str(tiny_model_dir), mode="only"))
    teacher = build_teacher(cfg.distill, model_cfg(tiny_model_dir), student)
    algo = build_algorithm(cfg)
    batch = grouped_batch(vocab=90)  # random RL advantages: 'only' ignores them
    batch = replace(batch, teacher_logprobs_NT=teacher_scorer(teacher, SETTINGS)(batch))
    stats = StatSums()
    loss = accumulate_gradients(student, batch, None, None, algo, SETTINGS, stats)
    metrics = update_stats(stats, algo)
    assert metrics["distill/reverse_kl"] == 0.0 and loss == 0.0
    assert metrics["distill/teacher_logprob"] < 0
    grads = [p.grad for p in student.model.parameters() if p.grad is not None]
    assert grads and all(torch.count_nonzero(g) == 0 for g in grads)
    assert all(p.grad is None for p in teacher.model.parameters())


def test_another_teacher_moves_the_student_and_never_gets_a_grad(tmp_path, tiny_model_dir):
    student = load_policy(model_cfg(tiny_model_dir))
    other = make_tiny_model_dir(tmp_path / "teacher", seed=7)
    cfg = AlgorithmConfig(distill=DistillConfig(teacher=str(other), mode="only"))
    teacher = build_teacher(cfg.distill, model_cfg(tiny_model_dir), student)
    batch = grouped_batch(vocab=90)
    batch = replace(batch, teacher_logprobs_NT=teacher_scorer(teacher, SETTINGS)(batch))
    stats = StatSums()
    accumulate_gradients(student, batch, None, None, build_algorithm(cfg), SETTINGS, stats)
    metrics = update_stats(stats, build_algorithm(cfg))
    assert metrics["distill/reverse_kl"] != 0.0
    assert any(torch.count_nonzero(p.grad) > 0 for p in student.model.parameters())
    assert all(p.grad is None for p in teacher.model.parameters())


def test_select_keeps_the_teacher_rows():
    batch = grouped_batch(vocab=90)
    teacher_NT = torch.arange(batch.num_sequences * 5, dtype=torch.float).reshape(-1, 5)
    rows = replace(batch, teacher_logprobs_NT=teacher_NT).select(torch.tensor([3, 0]))
    assert torch.equal(rows.teacher_logprobs_NT, teacher_NT[[3, 0]])
    assert batch.select(torch.tensor([1])).teacher_logprobs_NT is None


def _fetched(name: str) -> bool:
    from rlvr.models.embedded import is_fetched

    return is_fetched(name)


@pytest.mark.skipif(not _fetched("smollm2-135m-instruct"), reason="embedded model not cached")
def test_a_registered_teacher_name_loads_and_is_checked_against_the_student(student,
                                                                           tiny_model_dir):
    with pytest.raises(ConfigError) as err:
        load_teacher(DistillConfig(teacher="smollm2-135m-instruct"), model_cfg(tiny_model_dir),
                     student)
    line = str(err.value)
    assert "'smollm2-135m-instruct'" in line and str(tiny_model_dir) in line
    assert "token id 0 is '<pad>' for the student, '<|endoftext|>' for the teacher" in line
