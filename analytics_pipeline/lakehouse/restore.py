"""Rebuild ``bronze_events`` for some days from archived records.

The archived records are parsed exactly as a batch parses Kafka's (the same judgment gives each
its project and event day), those of the days asked for are kept, and only the records whose
Kafka position (topic, partition, offset) bronze does not hold yet are appended. So restoring
over rows that already exist adds nothing, and a restore can be repeated. Only positions the
batch ETL has committed are restored: the ETL still owns the others and will write them itself
(restoring them too would put them in bronze twice). A record with no
event day (it broke the contract) is restored by the UTC day Kafka received it.

``validated_events``, ``quarantined_events`` and ``daily_metrics`` are rebuilt from bronze by
the backfill path (``rederive``), as for any other day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.lakehouse.batch_etl import parse_records
from analytics_pipeline.lakehouse.bronze import append_bronze
from analytics_pipeline.lakehouse.delta_tables import is_delta_table
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.metadata.store import StoredSchema
from analytics_pipeline.timeutil import utc_now

POSITION = ("topic", "partition", "offset")
SOURCE_COLUMNS = ("topic", "partition", "offset", "key", "value", "timestamp")


@dataclass(frozen=True)
class RestoreReport:
    records_read: int  # archived records in the receipt window
    records_in_days: int  # of them, records of the days asked for
    rows_added: int  # of those, records bronze did not hold
    days: list[date]  # the days that gained rows


def in_days(first: date, last: date) -> Column:
    """The rows of days ``[first, last]``: by event day, or by receipt day when a row has none."""
    day = F.coalesce(F.col("eventDate"), F.to_date(F.col("kafkaTimestamp")))
    return day.between(F.lit(first), F.lit(last))


def etl_done(records: pa.Table, etl_committed: Mapping[tuple[str, int], int]) -> pa.Table:
    """The records at positions below the batch ETL's committed offsets, each position once
    (objects of a re-planned range may overlap)."""
    keep = pa.array(
        [
            offset < etl_committed.get((topic, partition), 0)
            for topic, partition, offset in zip(
                records.column("topic").to_pylist(),
                records.column("partition").to_pylist(),
                records.column("offset").to_pylist(),
                strict=True,
            )
        ],
        pa.bool_(),
    )
    return records.filter(keep)


def restore_bronze(  # noqa: PLR0917 - what is restored, from what, and how it is judged
    spark: SparkSession,
    tables: LakeTables,
    records: pa.Table,
    first: date,
    last: date,
    batch_id: str,
    schemas: list[StoredSchema],
    rules: QualityRules,
    ingested_at: datetime | None = None,
) -> RestoreReport:
    """``records``: archived records already limited to what the ETL committed (``etl_done``)."""
    if records.num_rows == 0:
        return RestoreReport(0, 0, 0, [])
    source = (
        spark.createDataFrame(records.select(list(SOURCE_COLUMNS)))
        .dropDuplicates(list(POSITION))
        .select("*", F.lit(batch_id).alias("batchId"), F.lit(ingested_at or utc_now()).alias("ingestedAt"))
    )
    wanted = parse_records(source, schemas, rules).where(in_days(first, last))
    wanted = wanted.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        in_range = wanted.count()
        missing = wanted.join(held_positions(spark, tables, first, last), list(POSITION), "left_anti")
        missing = missing.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            days = sorted(
                r.day
                for r in missing.select(F.coalesce("eventDate", F.to_date("kafkaTimestamp")).alias("day"))
                .distinct()
                .collect()
            )
            added = append_bronze(spark, missing, tables.bronze_events, batch_id) if days else 0
        finally:
            missing.unpersist()
    finally:
        wanted.unpersist()
    return RestoreReport(records.num_rows, in_range, added, days)


def held_positions(spark: SparkSession, tables: LakeTables, first: date, last: date) -> DataFrame:
    """The Kafka positions bronze holds for the days (and of every undated record)."""
    if not is_delta_table(spark, tables.bronze_events):
        return spark.createDataFrame([], "topic string, partition int, offset long")
    bronze = spark.read.format("delta").load(tables.bronze_events)
    return bronze.where(
        F.col("eventDate").between(F.lit(first), F.lit(last)) | F.col("eventDate").isNull()
    ).select(*POSITION)
