"""`rlvr eval`, `compare` and `report` end to end with a tiny random model built in code, the
real HF engine and a real reasoning-gym task (no network, no cached weights)."""

import json
import string

import pytest
import torch

from rlvr.cli_eval import main


def build_tiny_model_dir(path):
    """A 2-layer Llama with a character-level tokenizer and a minimal chat template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    chars = ["<pad>", "<eos>", "<unk>"] + list(string.printable)
    tok = Tokenizer(models.WordLevel({c: i for i, c in enumerate(chars)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                        eos_token="<eos>", unk_token="<unk>")
    tokenizer.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n"
                               "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(chars), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=0, eos_token_id=1,
                         bos_token_id=1, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_model_dir(tmp_path_factory.mktemp("tiny") / "model")


def run_eval(model_dir, out, seed=0):
    return main(["eval", "--model", str(model_dir), "--task", "chain_sum", "--n", "4",
                 "--k", "1,2,4", "--prompts", "6", "--max-new-tokens", "6", "--seed", str(seed),
                 "--prompts-per-batch", "4", "--quiet", "--out", str(out),
                 "task.train_size=20", "model.autocast='off'"])


def test_eval_is_reproducible_and_compare_and_report_work(tiny_model, tmp_path, capsys):
    assert run_eval(tiny_model, tmp_path / "a.json") == 0
    assert run_eval(tiny_model, tmp_path / "b.json") == 0
    a, b = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert a["status"] == "complete" and len(a["prompts"]) == 6
    assert a["summary"] == b["summary"]
    assert [p["answers"] for p in a["prompts"]] == [p["answers"] for p in b["prompts"]]
    assert set(a["summary"]["pass@k"]) == {"1", "2", "4"}
    assert all(len(p["scores"]) == 4 and 0 <= p["c"] <= p["n"] for p in a["prompts"])

    partial = dict(a, status="partial", prompts=a["prompts"][:4], summary={})  # 1st batch only
    (tmp_path / "resumed.json").write_text(json.dumps(partial))
    assert run_eval(tiny_model, tmp_path / "resumed.json") == 0
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed["prompts"] == a["prompts"] and resumed["summary"] == a["summary"]

    run_eval(tiny_model, tmp_path / "c.json", seed=1)
    c = json.loads((tmp_path / "c.json").read_text())
    assert [p["lengths"] for p in c["prompts"]] != [p["lengths"] for p in a["prompts"]]

    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "c.json"),
                 "--out", str(out)]) == 0
    assert (out / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"
    table = (out / "compare.md").read_text()
    assert "Solved-set overlap at k=4" in table and "| a | c | 4 |" in table

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "eval_after.json").write_text((tmp_path / "a.json").read_text())
    (run_dir / "metrics.jsonl").write_text('{"step": 0, "reward/mean": 0.1}\n')
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report" / "report.html").is_file()
    assert "report:" in capsys.readouterr().out
