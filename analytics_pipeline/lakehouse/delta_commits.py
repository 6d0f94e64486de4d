"""What a Delta write just did, read from the table's history (Delta reports no row counts back).

Each write tags its commit (Delta's ``userMetadata``) with a tag of its own attempt, so one read
of the newest history entry afterwards says both whether the write committed and what it wrote.
One writer per table at a time (Dagster's ``lake`` pool) keeps that commit the newest.
"""

from __future__ import annotations

import uuid

from pyspark.sql import DataFrameWriter, SparkSession

from analytics_pipeline.lakehouse.delta_tables import latest_commit

USER_METADATA = "userMetadata"


def tagged(writer: DataFrameWriter, what: str) -> tuple[DataFrameWriter, str]:
    """``writer`` with a commit tag unique to this attempt, and the tag (for ``rows_written``)."""
    tag = f"{what} {uuid.uuid4().hex}"
    return writer.option(USER_METADATA, tag), tag


def rows_written(spark: SparkSession, path: str, tag: str, metric: str = "numOutputRows") -> int:
    """``metric`` of the commit tagged ``tag``; 0 when the write committed nothing (Delta skips an
    append whose txnAppId/txnVersion it has already seen), so the newest commit is another's."""
    latest = latest_commit(spark, path)
    if latest is None or latest[USER_METADATA] != tag:
        return 0
    return int((latest["operationMetrics"] or {}).get(metric, 0))
