"""Exactly the records of some offset ranges, read with Spark's Kafka batch source."""

from __future__ import annotations

import os
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, kafka_source_options
from analytics_pipeline.lakehouse.spark_connect import is_connect

TASKS_PER_CORE = 3
# Each task of a batch pays a fixed cost (a Kafka consumer, the judge unpickled in a Python
# worker, a file per event date in each table): about 0.1-0.2 s here, when 5,000 records take
# about 0.75 s of work. A 42-record batch took 0.93 s in 6 tasks and 0.38 s in one.
RECORDS_PER_TASK = 5_000
# A batch reads up to the log's end, where a consumer's fetch waits this long for new records
# before it answers empty: 500 ms by default, which cost about 1 s a read (measured on a 42-record
# batch: 1.15 s, 0.16 s with 10). A fetch that finds records answers at once whatever this is.
FETCH_MAX_WAIT_MS = 10
PARALLELISM = "spark.default.parallelism"


def read_ranges(spark: SparkSession, bootstrap_servers: str, ranges: Sequence[OffsetRange]) -> DataFrame:
    """The records of ``ranges``: topic, partition, offset, key, value, timestamp, ...

    In ``batch_tasks`` tasks: Spark otherwise makes one task per Kafka partition, which leaves a
    core idle for a third of a large read of three partitions on two cores, and pays the fixed
    cost of three tasks for a batch of a few records.
    """
    tasks = batch_tasks(sum(r.count for r in ranges), default_parallelism(spark))
    source = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap_servers)
        .option("minPartitions", tasks)
        .option("kafka.fetch.max.wait.ms", FETCH_MAX_WAIT_MS)
        .options(**kafka_source_options(ranges))
        .load()
    )
    return source.coalesce(tasks) if tasks < len(ranges) else source


def batch_tasks(records: int, parallelism: int) -> int:
    """One task per ``RECORDS_PER_TASK`` records, at least one, at most a few per core."""
    return max(1, min(parallelism * TASKS_PER_CORE, -(-records // RECORDS_PER_TASK)))


def default_parallelism(spark: SparkSession) -> int:
    """Spark's default task count: its context's own, or over Spark Connect (no context on this
    side) the server's ``spark.default.parallelism``, which the stack sets to its cores."""
    if not is_connect(spark):
        return spark.sparkContext.defaultParallelism
    return int(spark.conf.get(PARALLELISM, None) or os.cpu_count() or 2)
