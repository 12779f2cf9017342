"""Character-level test tokenizers with chat templates of three families, written for these
tests (no downloads): ChatML as SmolLM2 / Qwen2 use it, a Gemma-style template (bos, role
'model', <end_of_turn>), and a ChatML template that drops earlier <think> blocks (Qwen3-like)."""

from __future__ import annotations

import string

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
GEMMA_STYLE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
    "<start_of_turn>{{ role }}\n{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
THINK_DROPPING = (
    "{% for m in messages %}{% set c = m['content'] %}"
    "{% if m['role'] == 'assistant' and '</think>' in c %}"
    "{% set c = c.split('</think>')[-1].lstrip() %}{% endif %}"
    "<|im_start|>{{ m['role'] }}\n{{ c }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

FAMILIES = {
    "chatml": (CHATML, ["<pad>", "<|im_start|>", "<|im_end|>", "<unk>"], "<|im_end|>", None),
    "gemma_style": (GEMMA_STYLE, ["<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
                                  "<unk>"], "<end_of_turn>", "<bos>"),
    "think_dropping": (THINK_DROPPING, ["<pad>", "<|im_start|>", "<|im_end|>", "<unk>"],
                       "<|im_end|>", None),
}
"""family -> (template, special tokens, end-of-turn token, bos)."""


def family_tokenizer(family: str):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    template, special, end_of_turn, bos = FAMILIES[family]
    chars = sorted(set(string.printable) - set("\x0b\x0c\r"))
    vocab = {tok: i for i, tok in enumerate(special + chars)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    others = [s for s in special if s not in ("<pad>", "<unk>", end_of_turn, bos)]
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token=end_of_turn,
                                  unk_token="<unk>", bos_token=bos,
                                  additional_special_tokens=others)
    tok.chat_template = template
    return tok
