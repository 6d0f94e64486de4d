"""Runs a checked query with DuckDB over one project's views, within a time and a row limit.

Each query gets a connection of its own that knows only the views it was given: external access
(files, URLs, extensions) is disabled, Python objects are not scanned by name, and the
configuration is locked before the query runs, so nothing in the SQL can widen what it sees.
"""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow.dataset as pads

from analytics_pipeline.query.lake_views import ProjectLake
from analytics_pipeline.query.sql_guard import CheckedQuery, SqlRefused
from analytics_pipeline.timeutil import format_rfc3339

_CONNECTION = {
    "enable_external_access": False,
    "python_enable_replacements": False,  # no scan of Python variables the SQL happens to name
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


@dataclass(frozen=True)
class QueryLimits:
    time_s: float
    max_rows: int
    threads: int = 2
    memory: str = "1GB"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]  # JSON-ready values


def sealed_connection(views: Mapping[str, pads.Dataset], limits: QueryLimits) -> duckdb.DuckDBPyConnection:
    """A connection that sees the views and nothing else, in UTC, whose settings cannot change."""
    connection = duckdb.connect(
        config={**_CONNECTION, "threads": limits.threads, "memory_limit": limits.memory}
    )
    try:
        connection.execute("SET TimeZone = 'UTC'")  # not the machine's: days and hours are UTC's
        for name, view in views.items():
            connection.register(name, view)
        connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def run_query(views: Mapping[str, pads.Dataset], sql: str, limits: QueryLimits) -> QueryResult:
    """The query's result; ``SqlRefused`` when it broke the time or the row limit, or DuckDB
    refused it."""
    connection = sealed_connection(views, limits)
    timer = threading.Timer(limits.time_s, connection.interrupt)
    try:
        timer.start()
        cursor = connection.execute(sql)
        rows = cursor.fetchmany(limits.max_rows + 1)
        columns = [column[0] for column in cursor.description or []]
    except duckdb.InterruptException as exc:
        raise SqlRefused(
            "time_limit", f"the query ran longer than {limits.time_s:g} s (ANALYTICS_QUERY_TIME_LIMIT_S)"
        ) from exc
    except duckdb.Error as exc:
        raise SqlRefused("query", f"the query failed: {str(exc).splitlines()[0]}") from exc
    finally:
        timer.cancel()
        connection.close()
    if len(rows) > limits.max_rows:
        raise SqlRefused(
            "row_limit",
            f"the result has more than {limits.max_rows} rows (ANALYTICS_QUERY_MAX_ROWS): "
            "aggregate, or add a LIMIT",
        )
    return QueryResult(columns, [[json_value(v) for v in row] for row in rows])


def json_value(value: Any) -> Any:
    """A DuckDB value as JSON carries it: instants in RFC 3339 UTC, decimals as exact strings."""
    for kinds, convert in _CONVERSIONS:
        if isinstance(value, kinds):
            return convert(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)  # UUID, INTERVAL and the like: their text


def _datetime(value: datetime) -> str:
    return format_rfc3339(value) if value.tzinfo else value.isoformat()


_CONVERSIONS: list[tuple[type | tuple[type, ...], Callable[[Any], Any]]] = [
    (datetime, _datetime),
    ((date, time), lambda v: v.isoformat()),
    (Decimal, str),
    (bytes, lambda v: base64.b64encode(v).decode()),
    (dict, lambda v: {str(k): json_value(x) for k, x in v.items()}),
    ((list, tuple), lambda v: [json_value(x) for x in v]),
    (float, lambda v: v if math.isfinite(v) else None),  # NaN and infinities have no JSON form
]


class DuckDbEngine:
    """The default engine: DuckDB in this process over the project's views of the lake."""

    def __init__(self, lake: ProjectLake, limits: QueryLimits) -> None:
        self._lake = lake
        self._limits = limits

    def run(self, project_id: str, query: CheckedQuery) -> QueryResult:
        return run_query(self._lake.views(project_id, query.tables), query.sql, self._limits)
