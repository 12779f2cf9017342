"""`rlvr train` end to end on a tiny random model, through the real CLI entry point."""

from __future__ import annotations

import json

import pytest

from rlvr import cli

TINY_RUN = ["steps=3", "task.train_size=40", "task.eval_size=4", "rollout.prompts_per_step=2",
            "rollout.group_size=4", "rollout.max_new_tokens=6", "log.progress=false",
            "optim.micro_batch_size=3"]


def test_three_step_smoke_run_and_checkpoint_loads(tiny_model_dir, tmp_path, capsys):
    run_dir = tmp_path / "run"
    code = cli.main(["train", f"model.name={tiny_model_dir}", f"log.run_dir={run_dir}", *TINY_RUN,
                     "eval.periodic={every: 2, n: 2, num_prompts: 2}"])
    assert code == 0
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1, 2]
    for key in ("reward/mean", "accuracy", "completion/len_mean", "loss", "grad_norm", "lr",
                "time/rollout", "time/reward", "time/update", "time/weight_sync",
                "update/entropy", "update/sampler_logprob_gap", "throughput/tokens_per_s"):
        assert all(key in m for m in lines), key
    # Periodic evaluation after step 2 (every 2) and after the last step.
    assert sorted(p.name for p in (run_dir / "evals").iterdir()) == ["step_000002.json",
                                                                     "step_000003.json"]
    assert any(k.startswith("eval/") for k in lines[1]) and not any(
        k.startswith("eval/") for k in lines[0])
    assert (run_dir / "samples.jsonl").stat().st_size > 0
    assert (run_dir / "config.yaml").read_text().startswith("seed: 0")
    assert json.loads((run_dir / "eval_after.json").read_text())["summary"]["num_prompts"] == 4
    assert "held-out (greedy)" in capsys.readouterr().out

    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(run_dir / "final")
    AutoTokenizer.from_pretrained(run_dir / "final")
    assert model.config.num_hidden_layers == 2


@pytest.mark.parametrize("bad, message", [
    (["optim.lrr=1"], "unknown config key 'optim.lrr'"),
    (["steps=many"], "bad value for 'steps'"),
    (["task=nope.jsonl"], "file not found"),
    (["rollout.group_size=1"], "group-relative"),
])
def test_bad_config_exits_before_loading_a_model(bad, message, monkeypatch, capsys):
    import rlvr.models.loader as loader

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the config was validated")

    monkeypatch.setattr(loader, "load_policy", refuse)
    assert cli.main(["train", *bad]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_models_and_tasks_commands(capsys):
    assert cli.main(["models", "list"]) == 0
    assert "smollm2-135m-instruct" in capsys.readouterr().out
    assert cli.main(["tasks", "list"]) == 0
    assert "chain_sum" in capsys.readouterr().out
    assert cli.main(["tasks", "show", "chain_sum"]) == 0
    out = capsys.readouterr().out
    assert "[reference]" in out and "score=1.0" in out


def test_three_step_run_with_several_temperatures(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    code = cli.main(["train", f"model.name={tiny_model_dir}", f"log.run_dir={run_dir}", *TINY_RUN,
                     "rollout.temperatures=[0.6, 1.0, 1.3]", "eval.before=false",
                     "eval.after=false"])
    assert code == 0
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [0, 1, 2]
    # Scored at each sample's own temperature, the first update's trainer logprobs match the
    # sampler's (on-policy) to float rounding.
    assert abs(lines[0]["update/sampler_logprob_gap"]) < 1e-3
