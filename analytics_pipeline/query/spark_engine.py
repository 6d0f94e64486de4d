"""The SQL engine as configuration for a lake that outgrows one machine: Spark SQL
(``ANALYTICS_QUERY_ENGINE=spark``, on ``ANALYTICS_SPARK_MASTER``, a cluster being only that
setting). Slower to start and to answer than DuckDB on one machine (bench/query measures both);
the answers are the same.

Each query gets a Spark session of its own (``newSession``: its own temporary views and
settings) whose views are the project's rows only, read from Delta by Spark. Unlike DuckDB,
Spark has no switch that takes files and catalogs out of a session's reach, so here the parser's
refusals (no qualified names, file names or table functions) are part of the isolation.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import sqlglot
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.spark import spark_session
from analytics_pipeline.query.lake_views import PROJECT_COLUMN, ProjectLake
from analytics_pipeline.query.sql_engine import QueryLimits, QueryResult, json_value
from analytics_pipeline.query.sql_guard import DIALECT, CheckedQuery, SqlRefused
from analytics_pipeline.settings import Settings


class SparkSqlEngine:
    def __init__(self, settings: Settings, lake: ProjectLake, limits: QueryLimits) -> None:
        self._settings = settings
        self._lake = lake
        self._limits = limits
        self._spark: SparkSession | None = None
        self._lock = threading.Lock()

    def _session(self) -> SparkSession:
        """The process's Spark, started on the first query (it takes seconds), then per query a
        session of its own over it."""
        with self._lock:
            if self._spark is None:
                self._spark = spark_session(self._settings, app_name="analytics-query")
            return self._spark.newSession()

    def run(self, project_id: str, query: CheckedQuery) -> QueryResult:
        spark = self._session()
        for name in query.tables:
            path = self._lake.sources[name].path
            view = spark.read.format("delta").load(path).where(F.col(PROJECT_COLUMN) == project_id)
            view.createOrReplaceTempView(name)
        group = f"query-{uuid.uuid4().hex}"
        context = spark.sparkContext
        context.setJobGroup(group, "analytics query", interruptOnCancel=True)
        timer = threading.Timer(self._limits.time_s, context.cancelJobGroup, args=(group,))
        timer.start()
        try:
            text = sqlglot.transpile(query.sql, read=DIALECT, write="spark")[0]
            frame = spark.sql(text)
            rows = frame.limit(self._limits.max_rows + 1).collect()
        except (PySparkException, Py4JError) as exc:
            if not timer.is_alive():
                raise SqlRefused(
                    "time_limit",
                    f"the query ran longer than {self._limits.time_s:g} s (ANALYTICS_QUERY_TIME_LIMIT_S)",
                ) from exc
            raise SqlRefused("query", f"the query failed: {str(exc).splitlines()[0]}") from exc
        finally:
            timer.cancel()
        if len(rows) > self._limits.max_rows:
            raise SqlRefused(
                "row_limit",
                f"the result has more than {self._limits.max_rows} rows (ANALYTICS_QUERY_MAX_ROWS): "
                "aggregate, or add a LIMIT",
            )
        return QueryResult(frame.columns, [[json_value(_plain(v)) for v in row] for row in rows])


def _plain(value: Any) -> Any:
    """Spark's Row and map values as the plain Python values DuckDB hands back."""
    if hasattr(value, "asDict"):
        return value.asDict(recursive=True)
    return value
