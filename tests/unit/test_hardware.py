"""rlvr/hardware.py: CPU facts from a hand-written /proc/cpuinfo text, and the dtype choice."""

import pytest

from rlvr.hardware import FLAGS, choose_dtype, cpu_facts, parse_cpuinfo

EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse sse2 avx avx2 fma bmi2
processor\t: 1
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse sse2 avx avx2 fma bmi2 avx512f
"""
SAPPHIRE = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: avx avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile
"""
AVX512_BF16_ONLY = "model name : Zen4\nflags : avx2 avx512f avx512_bf16\n"


def test_parse_first_processor_flags_only():
    model, flags = parse_cpuinfo(EPYC_AVX2)
    assert model == "AMD EPYC 7B12"
    # the second processor's avx512f is not read: the first processor decides
    assert flags == {"avx2": True, "avx512f": False, "avx512_bf16": False, "amx_bf16": False}


def test_parse_amx_machine_and_empty_text():
    assert parse_cpuinfo(SAPPHIRE)[1] == {f: True for f in FLAGS}
    assert parse_cpuinfo("") == (None, {f: False for f in FLAGS})
    # "avx512_bf16" must be a whole flag, not a prefix of another one
    assert parse_cpuinfo("flags : avx512_bf16x")[1]["avx512_bf16"] is False


def test_cpu_facts_from_text():
    import torch

    facts = cpu_facts(EPYC_AVX2)
    assert facts.model == "AMD EPYC 7B12" and not facts.fast_bf16
    assert facts.capability == torch.backends.cpu.get_cpu_capability()
    assert facts.threads == torch.get_num_threads()
    record = facts.as_dict()
    assert record["flags"]["avx2"] and record["fast_bf16"] is False
    assert facts.line().startswith("AMD EPYC 7B12, ") and "flags avx2," in facts.line()
    assert "bf16 slow: fp32" in facts.line()
    assert cpu_facts(SAPPHIRE).fast_bf16 and cpu_facts(AVX512_BF16_ONLY).fast_bf16
    assert "none of avx2/" in cpu_facts("model name : x\n").line()


@pytest.mark.parametrize("text, choice, expected", [
    (EPYC_AVX2, "auto", "fp32"), (AVX512_BF16_ONLY, "auto", "bf16"), (SAPPHIRE, "auto", "bf16"),
    (EPYC_AVX2, "bf16", "bf16"), (SAPPHIRE, "fp32", "fp32"), (EPYC_AVX2, "fp32", "fp32"),
])
def test_choose_dtype(text, choice, expected):
    assert choose_dtype(choice, cpu_facts(text)) == expected


def test_choose_dtype_names_allowed_values():
    with pytest.raises(ValueError, match="fp16.*auto, fp32, bf16"):
        choose_dtype("fp16", cpu_facts(EPYC_AVX2))
