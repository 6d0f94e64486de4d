"""The aggregate run outside the service, on the same files: DuckDB in this process (the bare
engine the service wraps), and Spark SQL (the engine it could use instead)."""

from __future__ import annotations

import statistics
import time

import duckdb
import pyarrow.compute as pc
from deltalake import DeltaTable
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.spark import spark_session
from analytics_pipeline.settings import Settings
from bench.query.lake import AGGREGATE


def bare_duckdb(path: str, project_id: str, rounds: int) -> tuple[float, list[list[object]]]:
    """Median seconds of: open the project's files as a dataset, run the aggregate (warm-up first)."""
    times, rows = [], []
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        dataset = DeltaTable(path).to_pyarrow_dataset(file_pruning_predicate=[("projectId", "=", project_id)])
        connection = duckdb.connect()
        connection.register("events", dataset.filter(pc.field("projectId") == project_id))
        rows = [list(r) for r in connection.execute(AGGREGATE).fetchall()]
        connection.close()
        if round_:
            times.append(time.perf_counter() - started)
    return statistics.median(times), rows


def spark_sql(
    settings: Settings, path: str, project_id: str, rounds: int
) -> tuple[float, list[list[object]]]:
    """Median seconds of the aggregate in Spark SQL over the Delta table (session already warm)."""
    spark = spark_session(settings.model_copy(update={"spark_master": "local[2]"}))
    try:
        times, rows = [], []
        for round_ in range(rounds + 1):
            started = time.perf_counter()
            table = spark.read.format("delta").load(path).where(F.col("projectId") == project_id)
            table.createOrReplaceTempView("events")
            rows = [list(r) for r in spark.sql(AGGREGATE).collect()]
            if round_:
                times.append(time.perf_counter() - started)
        return statistics.median(times), rows
    finally:
        spark.stop()
