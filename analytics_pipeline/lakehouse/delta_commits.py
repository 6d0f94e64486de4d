"""What a Delta write just did, read from the table's history (Delta reports no row counts back)."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import SparkSession


def latest_version(spark: SparkSession, path: str) -> int | None:
    """The table's newest version, or None when there is no table yet."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return int(DeltaTable.forPath(spark, path).history(1).collect()[0]["version"])


def commit_metric(spark: SparkSession, path: str, before: int | None, metric: str) -> int:
    """``metric`` of the commit made since version ``before``; 0 when the write committed nothing
    (Delta skips an append whose txnAppId/txnVersion it has already seen)."""
    latest = DeltaTable.forPath(spark, path).history(1).collect()[0]
    if before is not None and int(latest["version"]) == before:
        return 0
    return int((latest["operationMetrics"] or {}).get(metric, 0))
