"""The measured rounds, alternated in one warm Spark session over the same offset ranges:
the baseline (the ranges read from Kafka, written as plain Parquet) and ``run_batch``."""

from __future__ import annotations

import functools
import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse import batch_etl, validated_and_quarantined
from analytics_pipeline.lakehouse.batch_etl import BatchReport, run_batch
from analytics_pipeline.lakehouse.kafka_source import read_ranges
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.lakehouse.paths import LakeTables
from bench.etl.cpu import measure_cpu
from bench.etl.workload import EtlLoad
from bench.stream.probes import CpuUse
from bench.stream.progress import progress_bar

BASELINE = "baseline: Kafka -> Parquet"
CEILING = "ceiling: both Delta writes, no validation"
ETL = "ETL: run_batch"
# What the ceiling parses, natively (from_json), without judging anything.
ENVELOPE_DDL = (
    "eventId STRING, eventType STRING, userId STRING, timestamp TIMESTAMP, receivedAt TIMESTAMP, "
    "projectId STRING, properties STRING, context STRING"
)
SOURCE_COLUMNS = ("topic", "partition", "offset", "key", "value")
ENVELOPE_FIELDS_NOT_IN_BRONZE = ("eventId", "eventType", "userId", "timestamp", "properties", "context")
READ_PHASE = "Kafka read + parse + cache"
KEYS_PHASE = "validated: collect the batch's (project, date) keys"
CREATE_PHASE = "validated: create table if missing"
INSERT_PHASE = "validated: insert new events + history"
WRITES_PHASE = "bronze and quarantine appends, side by side"
PHASES = (READ_PHASE, KEYS_PHASE, CREATE_PHASE, INSERT_PHASE, WRITES_PHASE)
# The functions timed, by the name their caller looks them up under: the phase that starts when
# one is called, and the one that starts when it returns (None: the next call says).
TIMED = (
    (batch_etl, "append_new_events", KEYS_PHASE, None),
    # append_new_events's middle step
    (validated_and_quarantined, "ensure_validated_table", CREATE_PHASE, INSERT_PHASE),
    # run in two threads at once: the phase lasts until run_batch returns
    (batch_etl, "append_bronze", WRITES_PHASE, None),
    (batch_etl, "append_quarantine", WRITES_PHASE, None),
)


@dataclass(frozen=True)
class Phase:
    seconds: float
    jobs: int  # Spark jobs the phase ran (Delta runs some of its own)
    tasks: int


@dataclass(frozen=True)
class Round:
    path: str
    number: int
    records: int
    seconds: float
    cpu: CpuUse
    phases: dict[str, Phase] = field(default_factory=dict)  # ETL rounds only
    report: BatchReport | None = None

    @property
    def rate(self) -> float:
        return self.records / self.seconds


class PhaseClock:
    """Times run_batch's steps by wrapping the functions it calls, so production code stays as it is,
    and tags each step's Spark jobs with a job group, so the status tracker can count them.

    run_batch first counts the parsed batch's records by verdict (the Kafka read, the parse and
    the cache happen there), then appends to validated_events, then to bronze and the quarantine
    in two threads at once (each thread tags its own jobs). append_new_events collects the batch's
    (project, date) keys before it creates the table and inserts what it lacks.
    """

    def __init__(self, spark: SparkSession, label: str) -> None:
        self._context = spark.sparkContext
        self._label = label
        self._marks: list[tuple[str, float]] = []

    def _enter(self, phase: str) -> None:
        self._marks.append((phase, time.perf_counter()))
        self._context.setJobGroup(f"{self._label}:{phase}", phase)

    @contextmanager
    def running(self) -> Iterator[None]:
        with ExitStack() as stack:
            for module, name, on_enter, on_exit in TIMED:
                step = self._timed(getattr(module, name), on_enter, on_exit)
                stack.enter_context(patch.object(module, name, step))
            self._enter(READ_PHASE)
            try:
                yield
            finally:
                self._enter("")  # the end mark; jobs after it are nobody's
        self._context.setJobGroup(f"{self._label}:after", "bench")

    def _timed(self, step: Callable[..., Any], on_enter: str, on_exit: str | None) -> Callable[..., Any]:
        @functools.wraps(step)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._enter(on_enter)
            try:
                return step(*args, **kwargs)
            finally:
                if on_exit is not None:
                    self._enter(on_exit)

        return timed

    def phases(self) -> dict[str, Phase]:
        seconds = dict.fromkeys(PHASES, 0.0)
        for (phase, start), (_next, end) in itertools.pairwise(self._marks):
            seconds[phase] += end - start
        return {phase: Phase(seconds[phase], *self._jobs_and_tasks(phase)) for phase in PHASES}

    def _jobs_and_tasks(self, phase: str) -> tuple[int, int]:
        tracker = self._context.statusTracker()
        jobs = tracker.getJobIdsForGroup(f"{self._label}:{phase}")
        stages = {stage for job in jobs if (info := tracker.getJobInfo(job)) for stage in info.stageIds}
        tasks = sum(info.numTasks for stage in stages if (info := tracker.getStageInfo(stage)))
        return len(jobs), tasks


def write_baseline(spark: SparkSession, servers: str, ranges: list[OffsetRange], out: Path) -> None:
    """The same records as the ETL reads, through the same source, written with no work at all."""
    read_ranges(spark, servers, ranges).write.mode("overwrite").parquet(str(out))


def write_ceiling(spark: SparkSession, servers: str, ranges: list[OffsetRange], lake: Path) -> None:
    """The least any design writing both tables does: the same read, the envelope parsed by Spark's
    own JSON reader with no check at all, cached once, a bronze append and a deduplicated
    validated append (dropDuplicates, no anti-join), both Delta and partitioned like the real
    tables. The ETL can approach this, not pass it; the gap is the price of judging every record
    with the contract the ingestion service and the stream worker share."""
    envelope = F.from_json(F.col("value").cast("string"), ENVELOPE_DDL)
    parsed = (
        read_ranges(spark, servers, ranges)
        .select("*", envelope.alias("event"))
        .select(*SOURCE_COLUMNS, F.col("timestamp").alias("kafkaTimestamp"), "event.*")
        .withColumn("eventDate", F.to_date("timestamp"))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        parsed.count()
        bronze = parsed.drop(*ENVELOPE_FIELDS_NOT_IN_BRONZE)
        bronze.write.format("delta").mode("append").partitionBy("eventDate").save(str(lake / "bronze"))
        validated = parsed.drop("key", "value").dropDuplicates(["projectId", "eventId"])
        validated.write.format("delta").mode("append").partitionBy("projectId", "eventDate").save(
            str(lake / "validated")
        )
    finally:
        parsed.unpersist()


def run_etl(
    spark: SparkSession, servers: str, ranges: list[OffsetRange], load: EtlLoad, lake: Path, *, label: str
) -> tuple[float, dict[str, Phase], BatchReport]:
    clock = PhaseClock(spark, label)
    with clock.running():
        started = time.perf_counter()
        report = run_batch(spark, servers, ranges, LakeTables(str(lake)), load.schemas, load.rules)
        seconds = time.perf_counter() - started
    return seconds, clock.phases(), report


def warm_up(spark: SparkSession, servers: str, load: EtlLoad, work: Path, kafka_pid: int) -> Round:
    """Both paths once over a few thousand records, so JVM classes, Python workers, Delta and the
    Kafka clients are loaded before any clock starts. The ETL's phases here are what a run pays in
    a fresh JVM, as every run the Dagster daemon launches does."""
    ranges = load.warm_up_ranges()
    write_baseline(spark, servers, ranges, work / "warm-up.parquet")
    write_ceiling(spark, servers, ranges, work / "warm-up-ceiling")
    with measure_cpu(kafka_pid) as cpu:
        seconds, phases, report = run_etl(spark, servers, ranges, load, work / "warm-up-lake", label="cold")
    shutil.rmtree(work / "warm-up.parquet")
    shutil.rmtree(work / "warm-up-lake")
    shutil.rmtree(work / "warm-up-ceiling")
    return Round(ETL, 0, report.records_read, seconds, cpu, phases, report)


def bench_rounds(
    spark: SparkSession, servers: str, load: EtlLoad, *, rounds: int, work: Path, kafka_pid: int
) -> list[Round]:
    """Baseline, ceiling, then ETL, ``rounds`` times; each ETL round into a new lake, so each does all the
    work (bronze, creating validated_events and inserting into it, quarantine), none finds its
    batch written already. Outputs are deleted untimed."""
    results = []
    with progress_bar() as progress:
        task = progress.add_task("rounds", total=3 * rounds)
        for number in range(1, rounds + 1):
            for path, write in ((BASELINE, write_baseline), (CEILING, write_ceiling)):
                progress.update(task, description=f"round {number}/{rounds}: {path}")
                out = work / f"reference-{number}"
                with measure_cpu(kafka_pid) as cpu:
                    started = time.perf_counter()
                    write(spark, servers, load.ranges, out)
                    seconds = time.perf_counter() - started
                results.append(Round(path, number, load.records, seconds, cpu))
                shutil.rmtree(out)
                progress.update(task, advance=1)
            progress.update(task, description=f"round {number}/{rounds}: {ETL}")
            lake = work / f"lake-{number}"
            with measure_cpu(kafka_pid) as cpu:
                seconds, phases, report = run_etl(
                    spark, servers, load.ranges, load, lake, label=f"round-{number}"
                )
            results.append(Round(ETL, number, report.records_read, seconds, cpu, phases, report))
            shutil.rmtree(lake)
            progress.update(task, advance=1)
    return results
