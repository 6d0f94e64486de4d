"""``validated_events`` and ``quarantined_events``: the two ways out of a parsed batch.

Validated rows are unique by (projectId, eventId): a batch is first deduplicated (the lowest
position wins), then only the events the table does not hold are appended: an anti-join against
the rows of the batch's days and projects that were received near the batch's own events.

A copy of an event is the same record read again (a replay, a redrive, a producer retry: the same
``receivedAt``) or a client's retry that the API accepted twice (Redis away: received seconds
later). So the held rows compared are those received within the dedup window (1 h by default)
of a received hour of the batch, which Delta's file statistics on ``receivedAt`` prune to a few
files: the cost follows the window's traffic, not the lake's history.

The append carries ``txnAppId`` ``validated:{batchId}``, so a rerun of a committed batch adds
nothing without even joining. This is MERGE's insert-if-absent, at a third of its cost here; it
relies on one writer at a time, which Dagster's ``lake`` pool guarantees (dagster.yaml).
Quarantine rows are appended once per batch (``txnAppId`` ``quarantine:{batchId}``), by a batch
that has any: the first batch of a lake creates the table even with none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.delta_commits import rows_written, tagged
from analytics_pipeline.lakehouse.delta_tables import create_table_if_missing, is_delta_table
from analytics_pipeline.lakehouse.tables import (
    PARSED_SCHEMA,
    QUARANTINE_COLUMNS,
    VALIDATED_COLUMNS,
    VALIDATED_PARTITIONS,
)

EVENT_KEY = ("projectId", "eventId")
DEFAULT_DEDUP_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class AppendOutcome:
    inserted: int
    dates: list[date]  # event dates of the batch's valid rows
    projects: list[str]


def first_of_each_event(valid: DataFrame) -> DataFrame:
    """One row per (projectId, eventId): the one read first (lowest topic, partition, offset)."""
    order = Window.partitionBy(*EVENT_KEY).orderBy("topic", "partition", "offset")
    return valid.withColumn("_n", F.row_number().over(order)).where("_n = 1").drop("_n")


def ensure_validated_table(spark: SparkSession, path: str) -> None:
    fields = {f.name: f for f in PARSED_SCHEMA.fields}
    create_table_if_missing(spark, path, [fields[name] for name in VALIDATED_COLUMNS], VALIDATED_PARTITIONS)


def receive_spans(hours: list[datetime], window: timedelta) -> list[tuple[datetime, datetime]]:
    """The receive times a held copy of events received in ``hours`` can have: each hour widened
    by ``window`` on both sides, overlapping spans merged."""
    spans: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        low, high = hour - window, hour + timedelta(hours=1) + window
        if spans and low <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], high))
        else:
            spans.append((low, high))
    return spans


def received_near(hours: list[datetime], window: timedelta) -> Column:
    """Rows received within ``receive_spans(hours, window)``: a filter Delta's statistics prune by."""
    near = F.lit(False)
    for low, high in receive_spans(hours, window):
        near = near | F.col("receivedAt").between(low, high)
    return near


def append_new_events(
    spark: SparkSession,
    valid: DataFrame,
    path: str,
    batch_id: str,
    dedup_window: timedelta = DEFAULT_DEDUP_WINDOW,
) -> AppendOutcome:
    """Append the batch's events that ``validated_events`` does not hold yet (insert-if-absent),
    comparing with the rows received within ``dedup_window`` of the batch's events."""
    # Read before deduplicating: copies of an event share its day, and the batch is cached, so this
    # costs no shuffle (a superset would only widen the pruning).
    keys = (
        valid.select("projectId", "eventDate", F.date_trunc("hour", "receivedAt").alias("hour"))
        .distinct()
        .collect()
    )
    source = first_of_each_event(valid.select(*VALIDATED_COLUMNS))
    dates = sorted({row.eventDate for row in keys})
    projects = sorted({row.projectId for row in keys})
    ensure_validated_table(spark, path)
    if not keys:
        return AppendOutcome(0, [], [])
    near = received_near([row.hour for row in keys], dedup_window)
    held = (
        spark.read.format("delta")
        .load(path)
        .where(F.col("eventDate").isin(dates) & F.col("projectId").isin(projects) & near)
        .select(*EVENT_KEY)
    )
    new_events = source.join(held, list(EVENT_KEY), "left_anti")  # the window's partitioning serves the join
    writer, tag = tagged(new_events.write, f"validated:{batch_id}")
    (
        writer.format("delta")
        .mode("append")
        .option("mergeSchema", "true")  # a lake written before a column was added takes it
        .option("txnAppId", f"validated:{batch_id}")
        .option("txnVersion", 0)
        .save(path)
    )
    return AppendOutcome(rows_written(spark, path, tag), dates, projects)


def quarantine_rows(parsed: DataFrame) -> DataFrame:
    """The records that failed, readable: key and value as text, the first problem as the reason."""
    return (
        parsed.where(~F.col("valid"))
        .withColumn("key", F.col("key").cast("string"))
        .withColumn("value", F.col("value").cast("string"))
        .withColumn("reason", F.element_at("problems", 1))
        .select(*QUARANTINE_COLUMNS)
    )


def append_quarantine(spark: SparkSession, parsed: DataFrame, path: str, batch_id: str, failed: int) -> int:
    """Append the batch's ``failed`` records once; returns the rows added (0 when already there).
    A batch with none commits nothing: most batches are all valid, and a commit costs seconds."""
    if failed == 0 and is_delta_table(spark, path):
        return 0
    writer, tag = tagged(quarantine_rows(parsed).write, f"quarantine:{batch_id}")
    (
        writer.format("delta")
        .mode("append")
        .option("mergeSchema", "true")
        .option("txnAppId", f"quarantine:{batch_id}")
        .option("txnVersion", 0)
        .save(path)
    )
    return rows_written(spark, path, tag)
