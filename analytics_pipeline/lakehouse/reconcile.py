"""Reconciliation: every record a batch read is accounted for exactly once in the tables.

Computed from the tables alone, by position (topic, partition, offset): each bronze row of the
batch is a validated row, a quarantined row, or a duplicate of an event validated from another
position. Anything else is a lost or doubled event: a position stored twice in one table, in two
tables, or in none, or an event validated twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.paths import LakeTables

POSITION = ("topic", "partition", "offset")


@dataclass(frozen=True)
class BatchReconciliation:
    records_read: int
    bronze_rows: int
    validated_rows: int
    quarantined_rows: int
    duplicates: int
    unaccounted: int  # positions found nowhere
    doubled: int  # positions stored more than once (in one table or across two)
    events_doubled: int  # events of the batch that validated_events holds more than once

    @property
    def balanced(self) -> bool:
        return (
            self.records_read == self.bronze_rows
            and self.bronze_rows == self.validated_rows + self.quarantined_rows + self.duplicates
            and self.unaccounted == 0
            and self.doubled == 0
            and self.events_doubled == 0
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def reconcile_batch(  # noqa: PLR0917 - the batch, and where its valid records can have copies
    spark: SparkSession,
    tables: LakeTables,
    batch_id: str,
    records_read: int,
    dates: list[date],
    projects: list[str],
) -> BatchReconciliation:
    """``dates`` and ``projects``: the event dates and projects of the batch's valid records, the
    partitions of validated_events where their copies can be."""

    def rows(path: str):
        return spark.read.format("delta").load(path)

    def copies(frame, name: str):
        return frame.groupBy(*POSITION).agg(F.count("*").alias(name))

    bronze = rows(tables.bronze_events).where(F.col("batchId") == batch_id)
    validated = _validated_on(spark, tables, dates, projects)
    quarantined = rows(tables.quarantined_events).where(F.col("batchId") == batch_id)
    positions = bronze.groupBy(*POSITION).agg(
        F.count("*").alias("b"),
        F.first("projectId").alias("projectId"),
        F.first("key").cast("string").alias("key"),
    )
    event_copies = validated.groupBy("projectId", F.col("eventId").alias("key")).agg(
        F.count("*").alias("e"), F.min(F.struct(*POSITION)).alias("first")
    )
    placed = (
        positions.join(copies(validated, "v"), list(POSITION), "left")
        .join(copies(quarantined, "q"), list(POSITION), "left")
        .join(event_copies, ["projectId", "key"], "left")
        .select(
            "b",
            F.coalesce("v", F.lit(0)).alias("v"),
            F.coalesce("q", F.lit(0)).alias("q"),
            F.coalesce("e", F.lit(0)).alias("e"),
            # a valid repeat: its event is validated, from another position
            (F.col("first").isNotNull() & (F.col("first") != F.struct(*POSITION))).cast("int").alias("d"),
        )
    )
    totals = placed.agg(
        F.sum("b").alias("bronze"),
        F.sum("v").alias("validated"),
        F.sum("q").alias("quarantined"),
        F.sum(F.when((F.col("v") == 0) & (F.col("q") == 0), F.col("d")).otherwise(0)).alias("duplicates"),
        F.sum(F.when(F.col("v") + F.col("q") + F.col("d") == 0, 1).otherwise(0)).alias("unaccounted"),
        F.sum(F.when((F.col("b") > 1) | (F.col("v") + F.col("q") > 1), 1).otherwise(0)).alias("doubled"),
        F.sum(F.when(F.col("e") > 1, 1).otherwise(0)).alias("events_doubled"),
    ).collect()[0]
    return BatchReconciliation(
        records_read=records_read,
        bronze_rows=int(totals["bronze"] or 0),
        validated_rows=int(totals["validated"] or 0),
        quarantined_rows=int(totals["quarantined"] or 0),
        duplicates=int(totals["duplicates"] or 0),
        unaccounted=int(totals["unaccounted"] or 0),
        doubled=int(totals["doubled"] or 0),
        events_doubled=int(totals["events_doubled"] or 0),
    )


def _validated_on(spark: SparkSession, tables: LakeTables, dates: list[date], projects: list[str]):
    validated = spark.read.format("delta").load(tables.validated_events)
    if not dates or not projects:
        return validated.limit(0)
    return validated.where(F.col("eventDate").isin(dates) & F.col("projectId").isin(projects))
