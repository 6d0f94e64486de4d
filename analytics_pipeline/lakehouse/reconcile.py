"""Reconciliation: every record a batch read is accounted for exactly once in the tables.

Computed from the tables alone, by position (topic, partition, offset): each bronze row of the
batch is a validated row, a quarantined row, or a duplicate of an event validated from another
position. Anything else (a row in two places, a row in none) is a lost or doubled event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.tables import LakeTables

POSITION = ("topic", "partition", "offset")


@dataclass(frozen=True)
class BatchReconciliation:
    records_read: int
    bronze_rows: int
    validated_rows: int
    quarantined_rows: int
    duplicates: int
    unaccounted: int  # bronze rows found nowhere
    doubled: int  # bronze rows found in more than one place

    @property
    def balanced(self) -> bool:
        return (
            self.records_read == self.bronze_rows
            and self.bronze_rows == self.validated_rows + self.quarantined_rows + self.duplicates
            and self.unaccounted == 0
            and self.doubled == 0
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def reconcile_batch(
    spark: SparkSession, tables: LakeTables, batch_id: str, records_read: int, dates: list[date]
) -> BatchReconciliation:
    """``dates``: the event dates of the batch's valid records (where its duplicates can be)."""

    def rows(path: str):
        return spark.read.format("delta").load(path)

    bronze = (
        rows(tables.bronze_events).where(F.col("batchId") == batch_id).select(*POSITION, "projectId", "key")
    )
    validated = _validated_on(spark, tables, dates)
    quarantined = rows(tables.quarantined_events).where(F.col("batchId") == batch_id)
    in_validated = validated.select(*POSITION).withColumn("v", F.lit(1))
    in_quarantine = quarantined.select(*POSITION).withColumn("q", F.lit(1))
    duplicate_of = validated.select(
        "projectId", F.col("eventId").alias("key"), *(F.col(c).alias(f"v_{c}") for c in POSITION)
    )
    placed = (
        bronze.join(in_validated, list(POSITION), "left")
        .join(in_quarantine, list(POSITION), "left")
        .join(duplicate_of, ["projectId", "key"], "left")
        .select(
            *POSITION,
            F.coalesce("v", F.lit(0)).alias("v"),
            F.coalesce("q", F.lit(0)).alias("q"),
            (
                F.col("v_offset").isNotNull()
                & ~(
                    (F.col("v_topic") == F.col("topic"))
                    & (F.col("v_partition") == F.col("partition"))
                    & (F.col("v_offset") == F.col("offset"))
                )
            )
            .cast("int")
            .alias("d"),
        )
        .groupBy(*POSITION)
        .agg(F.max("v").alias("v"), F.max("q").alias("q"), F.max("d").alias("d"))
    )
    totals = placed.agg(
        F.count("*").alias("bronze"),
        F.sum("v").alias("validated"),
        F.sum("q").alias("quarantined"),
        F.sum(F.when((F.col("v") == 0) & (F.col("q") == 0), F.col("d")).otherwise(0)).alias("duplicates"),
        F.sum(F.when(F.col("v") + F.col("q") + F.col("d") == 0, 1).otherwise(0)).alias("unaccounted"),
        F.sum(F.when(F.col("v") + F.col("q") > 1, 1).otherwise(0)).alias("doubled"),
    ).collect()[0]
    return BatchReconciliation(
        records_read=records_read,
        bronze_rows=int(totals["bronze"] or 0),
        validated_rows=int(totals["validated"] or 0),
        quarantined_rows=int(totals["quarantined"] or 0),
        duplicates=int(totals["duplicates"] or 0),
        unaccounted=int(totals["unaccounted"] or 0),
        doubled=int(totals["doubled"] or 0),
    )


def _validated_on(spark: SparkSession, tables: LakeTables, dates: list[date]):
    validated = spark.read.format("delta").load(tables.validated_events)
    if not dates:
        return validated.limit(0)
    return validated.where(F.col("eventDate").isin(dates))
