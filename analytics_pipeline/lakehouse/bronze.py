"""``bronze_events``: every raw record as received, plus where it came from; append-only.

Idempotent per partition range: each range is one Delta append tagged with Delta's
``txnAppId`` (``bronze:{topic}:{partition}``) and ``txnVersion`` (the range's end offset), so a
range written again (a retried run) adds nothing, and a run cut off midway resumes where it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, spark_offsets


@dataclass(frozen=True)
class BronzeWrite:
    range: OffsetRange
    rows: int  # rows this call added (0 when Delta had the range already)


def read_range(spark: SparkSession, bootstrap_servers: str, offset_range: OffsetRange) -> DataFrame:
    """The records of exactly one range, with their topic, partition, offset and timestamps."""
    starting, ending = spark_offsets([offset_range])[offset_range.topic]
    raw = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers)
        .option("assign", json.dumps({offset_range.topic: [offset_range.partition]}))
        .option("startingOffsets", starting)
        .option("endingOffsets", ending)
        .load()
    )
    return raw.select(
        F.col("topic"),
        F.col("partition"),
        F.col("offset"),
        F.col("key").cast("string").alias("key"),
        F.col("value").cast("string").alias("value"),
        F.col("timestamp").alias("kafkaTimestamp"),
        F.get_json_object(F.col("value").cast("string"), "$.receivedAt").alias("receivedAt"),
        F.regexp_extract(F.col("topic"), r"^events\.(.+)$", 1).alias("projectId"),
        F.current_timestamp().alias("ingestedAt"),
    )


def append_bronze(
    spark: SparkSession, bootstrap_servers: str, ranges: Iterable[OffsetRange], table_path: str
) -> list[BronzeWrite]:
    """One idempotent append per range; Delta itself skips a range it has already committed."""
    writes = []
    for offset_range in sorted(ranges):
        before = _latest_version(spark, table_path)
        (
            read_range(spark, bootstrap_servers, offset_range)
            .write.format("delta")
            .mode("append")
            .option("txnAppId", f"bronze:{offset_range.topic}:{offset_range.partition}")
            .option("txnVersion", offset_range.end)
            .save(table_path)
        )
        writes.append(BronzeWrite(offset_range, _rows_added_since(spark, table_path, before)))
    return writes


def _latest_version(spark: SparkSession, table_path: str) -> int | None:
    if not DeltaTable.isDeltaTable(spark, table_path):
        return None
    return int(DeltaTable.forPath(spark, table_path).history(1).collect()[0]["version"])


def _rows_added_since(spark: SparkSession, table_path: str, before: int | None) -> int:
    """Rows of the commit the write made, or 0 when Delta skipped it as already applied."""
    latest = DeltaTable.forPath(spark, table_path).history(1).collect()[0]
    if before is not None and int(latest["version"]) == before:
        return 0
    return int(latest["operationMetrics"].get("numOutputRows", 0))
