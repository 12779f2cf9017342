"""The SQL verifier: run the model's query against SQLite read-only and compare result sets.

Defences (research/reliability.md §5, attacks Q01–Q14):

* the database is opened as ``file:…?mode=ro&immutable=1``: no writes, no journal, no lock files;
* an authorizer allow-list: SELECT, READ of the task's tables only, an allow-listed set of
  functions (no ``randomblob``, ``zeroblob``, ``printf``, ``load_extension``, ``fts3_tokenizer``),
  WITH RECURSIVE only when the policy allows it. ATTACH, PRAGMA, VACUUM, DDL and writes are
  denied, so ``ATTACH '/tmp/x.db'`` and ``VACUUM INTO`` create no file;
* ``setlimit``: value length, SQL length, expression depth, compound selects, columns, attached
  databases = 0;
* a progress-handler deadline stops runaway recursion and cartesian joins;
* ``fetchmany`` with a row cap and a byte cap; one statement only (``execute`` refuses scripts);
* a query that reads no table scores 0 (a hard-coded literal copied from a visible example, Q14).

Result comparison is declared per dataset: ordered, multiset or set; floats rounded.
The verifier runs inside the worker pool, whose deadline and memory cap are the outer bound.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rlvr.configs.reward import SqlPolicyConfig
from rlvr.rewards.extract import answer_region
from rlvr.types import RewardResult, TaskRow

ALLOWED_FUNCTIONS = frozenset("""
abs avg count max min sum total group_concat length lower upper substr substring trim ltrim rtrim
replace round coalesce ifnull nullif iif instr date time datetime julianday strftime typeof like
glob char unicode sign hex quote row_number rank dense_rank percent_rank cume_dist ntile lag lead
first_value last_value nth_value cast
""".split())

_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 1_000_000,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 20,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 16,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1000,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
}
_MAX_RESULT_BYTES = 16 * 1024 * 1024
_FENCE = re.compile(r"```[ \t]*(sql|sqlite)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_STARTS_SQL = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


class QueryFailed(Exception):
    """The query was refused, failed or exceeded a limit; the message is the verdict."""


def extract_sql(completion: str, max_chars: int = 20_000) -> str | None:
    """The last ```sql fenced block, else the last fenced block, else the last <answer> tag,
    else the whole (truncated) completion when it starts with SELECT or WITH."""
    region = answer_region(completion, max_chars)
    fences = _FENCE.findall(region)
    tagged = [body for lang, body in fences if lang]
    if tagged or fences:
        return (tagged or [body for _, body in fences])[-1].strip()
    answers = _ANSWER_TAG.findall(region)
    if answers:
        return answers[-1].strip()
    return region.strip() if _STARTS_SQL.match(region) else None


def _authorizer(tables: frozenset[str], policy: SqlPolicyConfig, reads: set[str]):
    def check(action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
        if action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            if dbname is None:  # a column of a CTE or subquery, not a stored table
                return sqlite3.SQLITE_OK
            if dbname == "main" and str(arg1).lower() in tables:
                reads.add(str(arg1).lower())
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return sqlite3.SQLITE_OK if str(arg2).lower() in ALLOWED_FUNCTIONS else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_RECURSIVE and policy.allow_recursive:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    return check


def user_tables(db_path: Path) -> frozenset[str]:
    """The tables of a database (trusted: called on the dataset's own file)."""
    conn = sqlite3.connect(f"file:{quote(str(db_path))}?mode=ro&immutable=1", uri=True)
    try:
        names = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        return frozenset(str(n).lower() for (n,) in names if not str(n).startswith("sqlite_"))
    finally:
        conn.close()


def run_query(db_path: Path, sql: str, policy: SqlPolicyConfig,
              tables: frozenset[str]) -> tuple[list[tuple], set[str]]:
    """Rows of ``sql`` (at most ``policy.max_rows``) and the tables it read; raises QueryFailed."""
    if len(sql) > policy.max_sql_chars:
        raise QueryFailed("sql_too_long")
    if not db_path.is_file():
        raise FileNotFoundError(f"SQL task database not found: {db_path}")
    conn = sqlite3.connect(f"file:{quote(str(db_path))}?mode=ro&immutable=1", uri=True,
                           isolation_level=None)
    reads: set[str] = set()
    try:
        for limit, value in _LIMITS.items():
            conn.setlimit(limit, value)
        pages = dict(conn.execute("SELECT rootpage, lower(tbl_name) FROM sqlite_master "
                                  "WHERE type IN ('table', 'index')").fetchall())
        deadline = time.monotonic() + policy.timeout_s
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
        conn.set_authorizer(_authorizer(tables, policy, reads))
        rows = _fetch(conn, sql, policy, deadline)
        if not reads:  # COUNT(*) reads no column, so no READ was authorized: ask the bytecode
            reads = _tables_opened(conn, sql, pages)
            if reads - tables:
                raise QueryFailed("sql_error: not authorized")
        return rows, reads
    except (sqlite3.Error, sqlite3.Warning, OverflowError, ValueError) as err:
        reason = "timeout" if "interrupted" in str(err) else "sql_error"
        raise QueryFailed(f"{reason}: {str(err)[:200]}") from None
    finally:
        conn.close()


def _tables_opened(conn: sqlite3.Connection, sql: str, pages: dict[int, str]) -> set[str]:
    """Tables whose b-trees the statement opens (EXPLAIN's OpenRead opcodes, p2 = root page)."""
    program = conn.execute("EXPLAIN " + sql).fetchall()
    return {pages[row[3]] for row in program if row[1] == "OpenRead" and row[3] in pages}


def _fetch(conn: sqlite3.Connection, sql: str, policy: SqlPolicyConfig, deadline: float) -> list[tuple]:
    cursor = conn.execute(sql)
    rows: list[tuple] = []
    size = 0
    while True:
        batch = cursor.fetchmany(500)
        if not batch:
            return rows
        rows.extend(batch)
        size += sum(len(repr(row)) for row in batch)
        if len(rows) > policy.max_rows:
            raise QueryFailed("too_many_rows")
        if size > _MAX_RESULT_BYTES:
            raise QueryFailed("result_too_large")
        if time.monotonic() > deadline:
            raise QueryFailed("timeout")


def _canonical(rows: list, digits: int) -> list[tuple]:
    return [tuple(round(v, digits) if isinstance(v, float) else v for v in row) for row in rows]


def results_equal(pred: list, gold: list, order: str, gold_sql: str = "") -> bool:
    """Compare result sets under the declared policy (see SqlPolicyConfig.order)."""
    if order == "auto":
        order = "ordered" if _ORDER_BY.search(gold_sql) else "multiset"
    if order == "ordered":
        return pred == gold
    if order == "multiset":
        return Counter(pred) == Counter(gold)
    return set(pred) == set(gold)


@dataclass(frozen=True)
class SqlVerifier:
    """``(completion, row) -> RewardResult`` for rows whose metadata holds ``db_path``,
    ``gold_sql`` and (precomputed by the task) ``gold_rows``."""

    policy: SqlPolicyConfig = SqlPolicyConfig()

    def __call__(self, completion: str, row: TaskRow) -> RewardResult:
        meta = row.metadata
        db_path = Path(meta["db_path"])
        tables = frozenset(meta.get("tables") or user_tables(db_path))
        gold_sql = str(meta.get("gold_sql", row.reference))
        gold = meta.get("gold_rows")
        if gold is None:
            try:
                gold = run_query(db_path, gold_sql, self.policy, tables)[0]
            except QueryFailed as err:
                return RewardResult.unscorable(f"gold query failed: {err}")
        sql = extract_sql(completion)
        if not sql:
            return RewardResult.scored(0.0, "no_sql")
        try:
            rows, reads = run_query(db_path, sql, self.policy, tables)
        except QueryFailed as err:
            return RewardResult.scored(0.0, str(err).split(":")[0])
        if self.policy.require_table_read and not reads:
            return RewardResult.scored(0.0, "no_table_read")
        digits = self.policy.float_digits
        same = results_equal(_canonical(rows, digits), _canonical([tuple(r) for r in gold], digits),
                             self.policy.order, gold_sql)
        return RewardResult.scored(float(same), "correct" if same else "wrong")
