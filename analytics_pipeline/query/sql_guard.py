"""Which SQL the query service runs: one read-only query over the project's three tables.

The statement is parsed (sqlglot, DuckDB's dialect) and refused unless it is a single ``SELECT``
(``WITH``, ``UNION`` and subqueries included) that reads only ``events``, ``daily_metrics``,
``quarantined_events`` and its own CTEs: no DDL or DML, no ``PRAGMA``, ``SET``, ``ATTACH``,
``COPY``, ``INSTALL``, no table functions (``read_parquet``, ``duckdb_settings()``...), no file
names, no qualified names. This is the first line only: the connection that runs the query
cannot reach files or other projects' rows whatever the parser lets through (``sql_engine``).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

TABLES = ("events", "daily_metrics", "quarantined_events")
DIALECT = "duckdb"
_QUERIES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # it warns on stderr for what it cannot parse


class SqlRefused(Exception):
    """A statement the service will not run; ``rule`` is the short name of the rule it broke."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class CheckedQuery:
    sql: str  # normalized: what runs, and what the cache key hashes
    tables: frozenset[str]  # the project tables it reads


REMEMBERED_TEXT_CHARS = 4_096  # longer texts are parsed each time: they would crowd the memory


def check_query(text: str) -> CheckedQuery:
    """The one query in ``text``, normalized, or ``SqlRefused`` naming the rule it broke.

    Remembered per text (up to a size): a dashboard asks the same queries again and again, and
    parsing costs more than answering one from the cache."""
    return _remembered_check(text) if len(text) <= REMEMBERED_TEXT_CHARS else _check(text)


@functools.lru_cache(maxsize=1024)
def _remembered_check(text: str) -> CheckedQuery:
    return _check(text)


def _check(text: str) -> CheckedQuery:
    if not text.strip():
        raise SqlRefused("empty", "sql is empty: send one SELECT")
    try:
        statements = [s for s in sqlglot.parse(text, read=DIALECT) if s is not None]
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise SqlRefused("syntax", f"sql does not parse: {first}") from exc
    except SqlglotError as exc:  # the tokenizer's (an unclosed comment or string)
        raise SqlRefused("syntax", f"sql does not parse: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise SqlRefused(
            "single_statement", f"sql holds {len(statements)} statements: send exactly one SELECT"
        )
    (statement,) = statements
    if not isinstance(statement, _QUERIES):
        kind = statement.key.upper() if statement.key != "command" else str(statement.this).upper()
        raise SqlRefused("read_only", f"only SELECT (or WITH ... SELECT) is allowed, not {kind}")
    _refuse_writes(statement)
    tables = _tables_read(statement)
    normalized = normalize_identifiers(statement, dialect=DIALECT).sql(dialect=DIALECT, comments=False)
    return CheckedQuery(normalized, frozenset(tables))


def _refuse_writes(statement: exp.Expression) -> None:
    """A SELECT can still hide a write or a command in a CTE or subquery (DuckDB allows some)."""
    for node in statement.walk():
        if isinstance(node, exp.DML | exp.DDL | exp.Command | exp.Pragma | exp.Set | exp.Copy):
            raise SqlRefused("read_only", f"only SELECT is allowed, not {node.key.upper()}")


def _tables_read(statement: exp.Expression) -> set[str]:
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    found = set()
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise SqlRefused(
                "table_function", f"table functions are not allowed ({table.this.sql(dialect=DIALECT)[:60]})"
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise SqlRefused(
                "table", f"{table.sql(dialect=DIALECT)} is not a table here: use {', '.join(TABLES)}"
            )
        name = table.name.lower()
        if name in ctes:
            continue
        if name not in TABLES:
            raise SqlRefused("table", f"no table {table.name!r}: the tables are {', '.join(TABLES)}")
        found.add(name)
    return found
