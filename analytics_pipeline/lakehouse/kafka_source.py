"""Exactly the records of some offset ranges, read with Spark's Kafka batch source."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, kafka_source_options


def read_ranges(spark: SparkSession, bootstrap_servers: str, ranges: Sequence[OffsetRange]) -> DataFrame:
    """The records of ``ranges``: topic, partition, offset, key, value, timestamp, ..."""
    return (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers)
        .options(**kafka_source_options(ranges))
        .load()
    )
