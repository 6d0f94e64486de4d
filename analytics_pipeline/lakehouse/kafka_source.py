"""Exactly the records of some offset ranges, read with Spark's Kafka batch source."""

from __future__ import annotations

import os
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, kafka_source_options
from analytics_pipeline.lakehouse.spark_connect import is_connect

TASKS_PER_CORE = 3
PARALLELISM = "spark.default.parallelism"


def read_ranges(spark: SparkSession, bootstrap_servers: str, ranges: Sequence[OffsetRange]) -> DataFrame:
    """The records of ``ranges``: topic, partition, offset, key, value, timestamp, ...

    Split into a few tasks per core (``minPartitions``): Spark otherwise makes one task per Kafka
    partition, and three partitions on two cores leave a core idle for a third of the read.
    """
    return (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers)
        .option("minPartitions", default_parallelism(spark) * TASKS_PER_CORE)
        .options(**kafka_source_options(ranges))
        .load()
    )


def default_parallelism(spark: SparkSession) -> int:
    """Spark's default task count: its context's own, or over Spark Connect (no context on this
    side) the server's ``spark.default.parallelism``, which the stack sets to its cores."""
    if not is_connect(spark):
        return spark.sparkContext.defaultParallelism
    return int(spark.conf.get(PARALLELISM, None) or os.cpu_count() or 2)
