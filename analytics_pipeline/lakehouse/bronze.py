"""``bronze_events``: every raw record as received (key and value bytes), plus where it came from.

Append-only and idempotent per batch: each batch is one Delta commit tagged with Delta's
``txnAppId`` (``bronze:{batchId}``), and a batch id names its offset ranges (``run_key``), so a
retried run over the same ranges adds nothing. A replay's runs cut the ranges anew, so they keep
only the positions bronze does not hold (``held_in_ranges``). Partitioned by the event's UTC
date (null when the record has none), so a backfill re-reads only the days it rebuilds.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.delta_commits import rows_written, tagged
from analytics_pipeline.lakehouse.delta_tables import is_delta_table
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.lakehouse.tables import BRONZE_COLUMNS

BRONZE_PARTITIONS = ("eventDate",)
POSITION = ("topic", "partition", "offset")


def append_bronze(spark: SparkSession, parsed: DataFrame, path: str, batch_id: str) -> int:
    """Append the batch's records once; returns the rows added (0 when bronze had the batch)."""
    writer, tag = tagged(parsed.select(*BRONZE_COLUMNS).write, f"bronze:{batch_id}")
    (
        writer.format("delta")
        .mode("append")
        .partitionBy(*BRONZE_PARTITIONS)
        .option("txnAppId", f"bronze:{batch_id}")
        .option("txnVersion", 0)
        .save(path)
    )
    return rows_written(spark, path, tag)


def bronze_source(spark: SparkSession, path: str) -> DataFrame:
    """Bronze rows shaped like the Kafka source, for re-parsing (a backfill re-derives from them)."""
    return spark.read.format("delta").load(path).withColumnRenamed("kafkaTimestamp", "timestamp")


def held_in_ranges(spark: SparkSession, path: str, ranges: Sequence[OffsetRange]) -> DataFrame:
    """The Kafka positions of ``ranges`` that bronze already holds."""
    if not ranges or not is_delta_table(spark, path):
        return spark.createDataFrame([], "topic string, partition int, offset long")
    return (
        spark.read.format("delta")
        .load(path)
        .where(reduce(Column.__or__, map(_in_range, ranges)))
        .select(*POSITION)
    )


def _in_range(r: OffsetRange) -> Column:
    return (
        (F.col("topic") == r.topic)
        & (F.col("partition") == r.partition)
        & (F.col("offset") >= r.start)
        & (F.col("offset") < r.end)
    )
