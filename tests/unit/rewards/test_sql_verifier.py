"""SQL verifier: correct / wrong answers, result-set policies, and the attacks Q01–Q14 of
research/reliability.md §5, run through the real worker pool against a real SQLite file."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from rlvr.configs.task import shipped_file
from rlvr.configs.reward import SqlPolicyConfig
from rlvr.rewards.sql import SqlVerifier, extract_sql, results_equal
from rlvr.types import TaskRow

FAST = SqlPolicyConfig(timeout_s=0.5, max_rows=10_000)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """A copy of the shipped database plus a 2,000-row table for the size attacks."""
    path = tmp_path / "shop.sqlite"
    shutil.copy(shipped_file("shop.sqlite"), path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE big (n INTEGER)")
    conn.executemany("INSERT INTO big VALUES (?)", [(i,) for i in range(2000)])
    conn.commit()
    conn.close()
    return path


def _row(db: Path, gold_sql: str, tables: list[str] | None = None) -> TaskRow:
    meta = {"db_path": str(db), "gold_sql": gold_sql}
    if tables is not None:
        meta["tables"] = tables
    return TaskRow("sql/0", "question", gold_sql, meta)


def _fenced(sql: str) -> str:
    return f"Here is the query:\n```sql\n{sql}\n```"


def test_correct_and_wrong_queries(db):
    verify = SqlVerifier(FAST)
    row = _row(db, "SELECT name FROM customers WHERE city = 'Lyon'")
    assert verify(_fenced("SELECT c.name FROM customers AS c WHERE c.city='Lyon'"), row).score == 1.0
    assert verify(_fenced("SELECT name FROM customers WHERE city = 'Ghent'"), row).score == 0.0
    assert verify(_fenced("SELECT name, city FROM customers WHERE city='Lyon'"), row).score == 0.0
    assert verify("no query here", row).verdict == "no_sql"


def test_order_and_multiset_policies():
    assert results_equal([(1,), (2,)], [(2,), (1,)], "auto", "SELECT x FROM t")
    assert not results_equal([(1,), (2,)], [(2,), (1,)], "auto", "SELECT x FROM t ORDER BY x")
    assert not results_equal([(1,), (1,)], [(1,)], "multiset")  # duplicates count
    assert results_equal([(1,), (1,)], [(1,)], "set")


def test_floats_are_rounded(db):
    row = _row(db, "SELECT AVG(price) FROM products WHERE category = 'office'")
    assert SqlVerifier(FAST)(_fenced("SELECT SUM(price) / COUNT(*) FROM products "
                                     "WHERE category = 'office'"), row).score == 1.0


def test_extract_sql_prefers_the_last_sql_fence():
    text = "```sql\nSELECT 1\n```\nbetter:\n```sql\nSELECT 2\n```"
    assert extract_sql(text) == "SELECT 2"
    assert extract_sql("SELECT name FROM t") == "SELECT name FROM t"
    assert extract_sql("I don't know") is None


def _attacks(tmp: Path) -> list[tuple[str, str, SqlPolicyConfig]]:
    deep = "(" * 10_000 + "1" + ")" * 10_000
    relaxed = SqlPolicyConfig(timeout_s=0.5, max_sql_chars=2_000_000)
    recursive = SqlPolicyConfig(timeout_s=0.5, allow_recursive=True)
    return [
        ("Q01", f"ATTACH '{tmp}/evil.db' AS e", FAST),
        ("Q01b", f"ATTACH DATABASE '{tmp}/evil2.db' AS e2", FAST),
        ("Q02", f"VACUUM INTO '{tmp}/copy.db'", FAST),
        ("Q03a", "PRAGMA writable_schema=1", FAST),
        ("Q03b", "PRAGMA query_only=0", FAST),
        ("Q04a", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r) SELECT count(*) FROM r", FAST),
        ("Q04b", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r) SELECT count(*) FROM r", recursive),
        ("Q05", "SELECT count(*) FROM big a, big b, big c, big d, big e", FAST),
        ("Q06a", "SELECT randomblob(1000000000)", FAST),
        ("Q06b", "SELECT zeroblob(1000000000) FROM customers", FAST),
        ("Q07", "SELECT printf('%.*c', 1000000000, 'x') FROM customers", FAST),
        ("Q08", "SELECT load_extension('/tmp/x.so')", FAST),
        ("Q09a", "DROP TABLE customers", FAST),
        ("Q09b", "DELETE FROM customers", FAST),
        ("Q09c", "UPDATE customers SET name = 'x'", FAST),
        ("Q09d", "INSERT INTO customers VALUES (99, 'x', 'y', 2020)", FAST),
        ("Q09e", "CREATE TABLE t2 (x)", FAST),
        ("Q10a", "SELECT * FROM sqlite_master", FAST),
        ("Q10b", "SELECT name FROM sqlite_schema", FAST),
        ("Q11", "SELECT 1 FROM customers; DROP TABLE customers", FAST),
        ("Q12", "SELECT a.n FROM big a, big b, big c", FAST),
        ("Q13a", "SELECT 1 FROM customers WHERE " + "1=1 AND " * 150_000 + "1=1", relaxed),
        ("Q13b", f"SELECT {deep} FROM customers", relaxed),
        ("Q14", "SELECT 8", FAST),
    ]


def test_attacks_fail_safely_and_leave_the_database_identical(pool, db, tmp_path):
    gold = "SELECT COUNT(*) FROM customers"
    before = _digest(db)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    attacks = _attacks(tmp_path)
    futures = [pool.submit(SqlVerifier(policy), _fenced(sql), _row(db, gold)) for _, sql, policy in attacks]
    results = {name: f.result() for (name, _, _), f in zip(attacks, futures)}
    passed = {name: r.verdict for name, r in results.items() if r.score != 0.0}
    assert not passed, passed
    assert results["Q04b"].verdict == "timeout" and results["Q05"].verdict == "timeout"
    assert results["Q12"].verdict == "too_many_rows"
    assert results["Q14"].verdict == "no_table_read"
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before  # no journal, no evil.db


def test_tables_outside_the_allow_list_are_denied(db):
    row = _row(db, "SELECT COUNT(*) FROM customers", tables=["customers"])
    verify = SqlVerifier(FAST)
    assert verify(_fenced("SELECT COUNT(*) FROM customers"), row).score == 1.0
    assert verify(_fenced("SELECT COUNT(name) FROM products"), row).verdict == "sql_error"
    # COUNT(*) reads no column, so SQLite asks no READ permission: it still reads no allowed table
    assert verify(_fenced("SELECT COUNT(*) FROM products"), row).score == 0.0


def test_shipped_database_is_untouched_by_the_sql_task():
    from rlvr.configs.task import SqlTaskConfig
    from rlvr.data.sql_tasks import SqlTask

    shipped = shipped_file("shop.sqlite")
    before = _digest(shipped)
    task = SqlTask(SqlTaskConfig())
    row = task.train_rows()[0]
    assert task.verify(_fenced(row.metadata["gold_sql"]), row).score == 1.0
    assert all(task.verify(_fenced(r.metadata["gold_sql"]), r).score == 1.0
               for r in task.train_rows() + task.eval_rows())
    assert _digest(shipped) == before
