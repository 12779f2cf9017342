"""Broken dataset rows are quarantined at load with their row number and reason (F18)."""

from __future__ import annotations

import json

import pytest

from rlvr.data import quarantine
from rlvr.data.files import read_numbered, read_records

GOOD = {"prompt": "1 + 1", "reference": "2"}


def _broken_file(path):
    lines = [json.dumps(GOOD).encode(),                            # 1 ok
             b'{"prompt": "x", "reference": ',                       # 2 invalid JSON
             b'{"prompt": "\xff\xfe", "reference": "1"}',            # 3 not UTF-8
             b"[1, 2]",                                              # 4 not an object
             json.dumps({"prompt": "y"}).encode(),                   # 5 missing field
             json.dumps({"prompt": ["a"], "reference": "1"}).encode(),  # 6 wrong type
             json.dumps({**GOOD, "id": 7}).encode(),                 # 7 ok
             json.dumps({**GOOD, "id": 7}).encode(),                 # 8 duplicate id
             json.dumps({"prompt": "z" * 300, "reference": "1"}).encode(),  # 9 too large
             b"",                                                    # blank: not a row
             b'{"prompt": "torn", "refer']                           # 11 truncated last line
    path.write_bytes(b"\n".join(lines))
    return path


def test_f18_each_broken_row_is_reported(tmp_path):
    path = _broken_file(tmp_path / "rows.jsonl")
    with quarantine.collecting(max_row_bytes=200, max_share=1.0) as report:
        rows = read_numbered(path, ("prompt", "reference"))
    assert [line for line, _ in rows] == [1, 7]
    reasons = {r["row"]: r["reason"] for r in report.rows}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 8, 9, 11]
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3].startswith("not UTF-8")
    assert reasons[4] == "expected a JSON object, got list"
    assert reasons[5].startswith("missing field 'reference'")
    assert reasons[6] == "field 'prompt' is list, expected text or a number"
    assert reasons[8] == "duplicate id 7"
    assert "exceeds reliability.max_row_bytes=200" in reasons[9]
    assert reasons[11].endswith("the last line is truncated")
    assert report.counts() == {"quarantined_rows": 8,
                               "files": {str(path): {"rows": 10, "quarantined": 8}}}
    report.write(tmp_path / "q.json")
    assert json.loads((tmp_path / "q.json").read_text())["rows"][0]["row"] == 2


def test_f18_threshold_aborts_naming_the_file(tmp_path):
    path = _broken_file(tmp_path / "rows.jsonl")
    with pytest.raises(quarantine.DatasetRejected,
                       match=r"rows.jsonl: 8 of 10 rows \(80%\) are broken, above "
                             r"reliability.max_quarantined_share=0.5; first: row 2: not valid"):
        with quarantine.collecting(max_row_bytes=200, max_share=0.5):
            read_records(path, ("prompt", "reference"))


def test_outside_a_run_the_first_broken_row_raises(tmp_path):
    path = _broken_file(tmp_path / "rows.jsonl")
    with pytest.raises(ValueError, match=r"rows.jsonl:2: not valid JSON"):
        read_records(path)
