"""Exactly the records of some offset ranges, read with Spark's Kafka batch source."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, kafka_source_options

TASKS_PER_CORE = 3


def read_ranges(spark: SparkSession, bootstrap_servers: str, ranges: Sequence[OffsetRange]) -> DataFrame:
    """The records of ``ranges``: topic, partition, offset, key, value, timestamp, ...

    Split into a few tasks per core (``minPartitions``): Spark otherwise makes one task per Kafka
    partition, and three partitions on two cores leave a core idle for a third of the read.
    """
    return (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers)
        .option("minPartitions", spark.sparkContext.defaultParallelism * TASKS_PER_CORE)
        .options(**kafka_source_options(ranges))
        .load()
    )
