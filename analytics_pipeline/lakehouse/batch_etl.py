"""One Kafka batch through the lakehouse: raw records -> bronze -> validated + quarantined.

The records are read from Kafka once, judged once (``parse``), held in memory, and written to
the three tables from there: validated_events first, since its commit is what makes events
queryable, then bronze and the quarantine. Every write is idempotent on its own (see ``bronze``
and ``validated_and_quarantined``), so a run killed anywhere and run again over the same ranges
ends with the same tables. The batch id is the ranges' run key, so it is the same on every attempt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.lakehouse.bronze import POSITION, append_bronze, held_in_ranges
from analytics_pipeline.lakehouse.judge_in_jvm import CERTAIN, DECIDED, with_jvm_verdict
from analytics_pipeline.lakehouse.kafka_source import read_ranges
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, run_key
from analytics_pipeline.lakehouse.parse import judgment_of
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.tables import JUDGMENT_SCHEMA, SOURCE_SCHEMA
from analytics_pipeline.lakehouse.validated_and_quarantined import (
    DEFAULT_DEDUP_WINDOW,
    append_new_events,
    append_quarantine,
)
from analytics_pipeline.metadata.store import StoredSchema
from analytics_pipeline.timeutil import utc_now


@dataclass(frozen=True)
class BatchReport:
    batch_id: str
    records_read: int
    bronze_added: int  # 0 on a rerun: bronze had the batch
    valid: int
    validated_added: int
    quarantined: int
    quarantine_added: int
    problems: dict[str, int] = field(default_factory=dict)  # reason -> records
    event_dates: list[date] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds each part of the batch took

    @property
    def duplicates_dropped(self) -> int:
        """Valid records not inserted: repeats within the batch, events the table held already."""
        return self.valid - self.validated_added


def parse_records(
    source: DataFrame,
    schemas: list[StoredSchema],
    rules: QualityRules,
    *,
    newest_schemas: bool = False,
    judge_in_jvm: bool = False,
) -> DataFrame:
    """Rows of ``PARSED_SCHEMA`` from records shaped like the Kafka source plus batchId/ingestedAt,
    each judged by the schema version it was accepted under (or the newest, when asked) by the
    Python judge of ``parse``. With ``judge_in_jvm``, a record the Spark SQL of the module
    ``judge_in_jvm`` proves valid is decided in the JVM, and Python, which alone names problems,
    judges the rest; measured on 2 cores (``bench.etl --judges``), Python alone is the faster."""
    python_judge = judgment_of(schemas, rules, newest_schemas=newest_schemas)
    if judge_in_jvm:
        source = with_jvm_verdict(source, schemas, rules, newest_schemas=newest_schemas)
        certain = F.col(CERTAIN)
        # the Python judge still sees every row (Spark feeds a UDF all of them), but a decided one
        # without its topic, which it passes over
        undecided = python_judge(F.when(~certain, F.col("topic")), "key", "value")
        judgment = F.when(certain, F.col(DECIDED)).otherwise(undecided)
    else:
        judgment = python_judge("topic", "key", "value")
    judged = source.select(
        *(F.col(name) for name in SOURCE_SCHEMA.fieldNames() if name != "kafkaTimestamp"),
        F.col("timestamp").alias("kafkaTimestamp"),
        judgment.alias("judgment"),
    )
    return judged.select(
        *SOURCE_SCHEMA.fieldNames(), *(F.col(f"judgment.{name}") for name in JUDGMENT_SCHEMA.fieldNames())
    )


def run_batch(  # noqa: PLR0917 - what a batch reads, where it writes, and what it judges by
    spark: SparkSession,
    bootstrap_servers: str,
    ranges: Sequence[OffsetRange],
    tables: LakeTables,
    schemas: list[StoredSchema],
    rules: QualityRules,
    *,
    ingested_at: datetime | None = None,
    replays: Sequence[str] = (),
    dedup_window: timedelta = DEFAULT_DEDUP_WINDOW,
    judge_in_jvm: bool = False,
) -> BatchReport:
    """``schemas`` holds every version of the batch's projects: each record is judged by the one
    it names (``schemaVersion``). A run that reads records again for ``replays`` takes only
    those whose Kafka position bronze does not hold (its ranges are cut anew). Validated events
    are compared with those received within ``dedup_window`` of them."""
    batch_id = run_key(ranges, replays)
    source = read_ranges(spark, bootstrap_servers, ranges)
    if replays:
        source = source.join(held_in_ranges(spark, tables.bronze_events, ranges), list(POSITION), "left_anti")
    return write_batch(
        spark,
        source,
        tables,
        schemas,
        rules,
        batch_id=batch_id,
        ingested_at=ingested_at,
        dedup_window=dedup_window,
        judge_in_jvm=judge_in_jvm,
    )


def write_batch(
    spark: SparkSession,
    records: DataFrame,
    tables: LakeTables,
    schemas: list[StoredSchema],
    rules: QualityRules,
    *,
    batch_id: str,
    ingested_at: datetime | None = None,
    dedup_window: timedelta = DEFAULT_DEDUP_WINDOW,
    judge_in_jvm: bool = False,
) -> BatchReport:
    """Judge ``records`` (rows shaped like the Kafka source) once and write the three tables."""
    source = records.select(
        "*", F.lit(batch_id).alias("batchId"), F.lit(ingested_at or utc_now()).alias("ingestedAt")
    )
    parsed = parse_records(source, schemas, rules, judge_in_jvm=judge_in_jvm)
    parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
    phases: dict[str, float] = {}
    try:
        with timed(phases, "read and judge"):
            verdicts = verdict_counts(parsed)
        with timed(phases, "validated"):
            valid = parsed.where("valid")
            appended = append_new_events(spark, valid, tables.validated_events, batch_id, dedup_window)
        problems = {reason: count for reason, count in verdicts.items() if reason is not None}
        failed = sum(problems.values())
        with timed(phases, "bronze and quarantine"), ThreadPoolExecutor(2, "lake-write") as writers:
            # Two tables, two commits: each one's fixed driver-side cost (log, commit, history)
            # overlaps the other's tasks instead of following them.
            bronze = writers.submit(append_bronze, spark, parsed, tables.bronze_events, batch_id)
            quarantine = writers.submit(
                append_quarantine, spark, parsed, tables.quarantined_events, batch_id, failed
            )
            bronze_added, quarantine_added = bronze.result(), quarantine.result()
        return BatchReport(
            batch_id=batch_id,
            records_read=sum(verdicts.values()),
            bronze_added=bronze_added,
            valid=verdicts.get(None, 0),
            validated_added=appended.inserted,
            quarantined=failed,
            quarantine_added=quarantine_added,
            problems=problems,
            event_dates=appended.dates,
            projects=appended.projects,
            phases=phases,
        )
    finally:
        parsed.unpersist()


def verdict_counts(parsed: DataFrame) -> dict[str | None, int]:
    """Records by their first problem (None: valid), in the one job that fills the batch's cache."""
    reason = F.when(~F.col("valid"), F.element_at("problems", 1))  # a failed record has one or more
    reasons = parsed.groupBy(reason.alias("reason")).count().collect()
    return {row.reason: row["count"] for row in reasons}


@contextmanager
def timed(phases: dict[str, float], name: str) -> Iterator[None]:
    """Adds the seconds the block took to ``phases[name]``: a run's log says where its time went."""
    started = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
