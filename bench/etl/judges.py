"""What judging costs a record, by judge, on the same records in the same Spark session.

Each path reads the same offset ranges and is evaluated into Spark's ``noop`` sink (every column
computed, nothing written), so the figures are the read and the judging alone:

  read        the Kafka records, as every path reads them
  JVM only    the JVM's verdict (``judge_in_jvm.with_jvm_verdict``), no Python
  Python      the Python judge over every record (the ETL's default)
  least       the judge floor's Python check (steady_paths.least_judge): each record's JSON parsed
              in Python and one rule checked, the least any judge in Python does
  JVM first   the JVM's verdict, then Python for what it did not prove (ANALYTICS_LAKE_JUDGE_IN_JVM)

Every judging path must give the same number of valid records as the load holds, or the bench
fails.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from rich.table import Table

from analytics_pipeline.lakehouse.batch_etl import parse_records
from analytics_pipeline.lakehouse.judge_in_jvm import CERTAIN, DECIDED, with_jvm_verdict
from analytics_pipeline.lakehouse.kafka_source import read_ranges
from bench.etl.steady_paths import least_judge
from bench.etl.workload import EtlLoad

READ, JVM_ONLY, PYTHON, JVM_FIRST, LEAST = "read", "JVM only", "Python", "JVM first", "least (floor)"


def judge_paths(spark: SparkSession, servers: str, load: EtlLoad) -> dict[str, Callable[[], DataFrame]]:
    def source() -> DataFrame:
        return read_ranges(spark, servers, load.ranges).select(
            "*", F.lit("bench").alias("batchId"), F.current_timestamp().alias("ingestedAt")
        )

    return {
        READ: source,
        JVM_ONLY: lambda: with_jvm_verdict(source(), load.schemas, load.rules).select(CERTAIN, DECIDED),
        PYTHON: lambda: parse_records(source(), load.schemas, load.rules),
        JVM_FIRST: lambda: parse_records(source(), load.schemas, load.rules, judge_in_jvm=True),
        LEAST: lambda: source().select("*", least_judge()(F.col("value")).alias("valid")),
    }


def measure_judges(spark: SparkSession, servers: str, load: EtlLoad, rounds: int) -> dict[str, list[float]]:
    """Seconds of each path per round, after one untimed warm-up of each."""
    paths = judge_paths(spark, servers, load)
    for build in paths.values():
        build().write.format("noop").mode("overwrite").save()
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, build in paths.items():
            started = time.perf_counter()
            build().write.format("noop").mode("overwrite").save()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def valid_counts(spark: SparkSession, servers: str, load: EtlLoad) -> dict[str, int]:
    """Counted by grouping, not by a filter: Spark would push a filter on ``valid`` below the
    JVM verdict's projections and inline every place's parse into one expression too large to
    compile."""
    paths = judge_paths(spark, servers, load)
    counts = {}
    for name in (PYTHON, JVM_FIRST, LEAST):
        by_verdict = {row.valid: row["count"] for row in paths[name]().groupBy("valid").count().collect()}
        counts[name] = by_verdict.get(True, 0)
    return counts


def judges_table(seconds: dict[str, list[float]], records: int) -> Table:
    table = Table(title=f"judging cost per record ({records:,} records, noop sink, median of rounds)")
    for column in ("path", "median s", "µs per record", "over the read", "rounds (s)"):
        table.add_column(column, justify="left" if column == "path" else "right")
    read = statistics.median(seconds[READ])
    for name, times in seconds.items():
        median = statistics.median(times)
        over = "" if name == READ else f"{(median - read) / records * 1e6:.0f}"
        table.add_row(
            name,
            f"{median:.2f}",
            f"{median / records * 1e6:.0f}",
            over,
            ", ".join(f"{t:.2f}" for t in times),
        )
    return table
