"""What a Delta write just did, read from the table's history (Delta reports no row counts back)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from analytics_pipeline.lakehouse.delta_tables import latest_commit


def latest_version(spark: SparkSession, path: str) -> int | None:
    """The table's newest version, or None when there is no table yet."""
    latest = latest_commit(spark, path)
    return None if latest is None else int(latest["version"])


def commit_metric(spark: SparkSession, path: str, before: int | None, metric: str) -> int:
    """``metric`` of the commit made since version ``before``; 0 when the write committed nothing
    (Delta skips an append whose txnAppId/txnVersion it has already seen)."""
    latest = latest_commit(spark, path)
    if latest is None or (before is not None and int(latest["version"]) == before):
        return 0
    return int((latest["operationMetrics"] or {}).get(metric, 0))
