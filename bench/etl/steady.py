"""The ETL at steady state: a lake that already holds a history of validated events over 7 days,
then consecutive batches landing on those same days (late events included), each batch written
by run_batch into one copy of the lake, and by the ceiling and the judge floor (steady_paths)
into one each, so all three grow alike.

The history is written straight into validated_events (not measured), in slices received over
the 7 days as real batches would have been, so Delta's file statistics on receivedAt are those of
a lake that grew by batches. Each measured batch repeats 1 % of its own records (producer
retries) and 1 % of the previous batch's (the same records read again); 2 % of its purchases
break their schema. The checks: every batch inserts exactly its new valid events, and the lake
ends with one row per event.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.batch_etl import run_batch
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, pending_ranges
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.tables import PARSED_SCHEMA, VALIDATED_COLUMNS
from analytics_pipeline.lakehouse.validated_and_quarantined import (
    DEFAULT_DEDUP_WINDOW,
    ensure_validated_table,
    received_near,
)
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from bench.common import BenchError, console
from bench.etl.steady_paths import ceiling_batch, judge_floor_batch
from bench.etl.workload import REPEAT_EVERY, register_example_schemas, spoil_purchases
from bench.stream.progress import progress_bar
from bench.stream.workload import EventSource, create_project, encode, preload

DAYS = 7
HISTORY_SLICES = 28  # the history is appended in this many slices, oldest first
LATE_SPAN_S = DAYS * 86_400 - 3_600  # measured events happened up to 7 days before they arrive
PATHS = ["etl", "ceiling", "floor"]  # the floor: the judge floor of steady_paths


@dataclass(frozen=True)
class Batch:
    number: int
    ranges: list[OffsetRange]
    received: datetime  # the receivedAt its new records carry
    records: int
    new_valid: int  # valid events the lake does not hold yet: what run_batch must insert
    new_unique: int  # distinct events the lake does not hold (valid or not): what the ceiling inserts


@dataclass(frozen=True)
class BatchTiming:
    number: int
    lake_rows: int  # validated rows before the batch
    compared: int  # held rows within the dedup window: what the anti-join read
    records: int
    etl_s: float
    ceiling_s: float
    floor_s: float
    inserted: int
    expected: int
    phases: dict[str, float]  # the ETL's, as run_batch reports them

    @property
    def etl_us(self) -> float:
        return self.etl_s / self.records * 1e6

    @property
    def ceiling_us(self) -> float:
        return self.ceiling_s / self.records * 1e6

    @property
    def floor_us(self) -> float:
        return self.floor_s / self.records * 1e6


def load_batches(settings: Settings, batches: int, events: int) -> tuple[str, list, list[Batch]]:
    """A project with the example schemas; ``batches`` batches of ``events`` events each written
    to its raw topic one after the other, with their offset ranges and what each must insert."""
    project_id = create_project(settings)
    schemas = register_example_schemas(settings, project_id)
    versions = {s.event_type: s.version for s in schemas}
    topic = raw_topic(project_id)
    result: list[Batch] = []
    committed: dict[tuple[str, int], int] = {}
    previous: list[tuple[bytes, bytes]] = []
    for number in range(1, batches + 1):
        with console.status(f"building batch {number}/{batches} ..."):
            now = utc_now()
            payloads = EventSource(seed=100 + number).payloads(events, now=now, span_s=LATE_SPAN_S)
            spoiled = spoil_purchases(payloads)
            encoded = encode(settings, project_id, payloads, now, versions)
            records: list[tuple[bytes, bytes]] = []
            for index, record in enumerate(encoded):
                records += [record] * (2 if index % REPEAT_EVERY == 0 else 1)
            records += previous[::REPEAT_EVERY]  # read again: already in the lake
        preload(settings, topic, records)
        offsets = topic_offsets(settings.kafka_bootstrap_servers, topic)
        ends = {(topic, o.partition): o.latest for o in offsets}
        ranges = pending_ranges(committed, ends)
        if (took := sum(r.count for r in ranges)) != len(records):
            raise BenchError(f"batch {number}: {topic} took {took:,} of {len(records):,} records")
        committed = ends
        result.append(Batch(number, ranges, now, len(records), events - len(spoiled), events))
        previous = encoded
    return project_id, schemas, result


def write_history(spark: SparkSession, path: str, project_id: str, rows: int, now: datetime) -> None:
    """``rows`` validated events over the last 7 days, appended oldest first in slices, each
    received a couple of seconds after it happened."""
    ensure_validated_table(spark, path)
    fields = {f.name: f for f in PARSED_SCHEMA.fields}
    types = F.array(*map(F.lit, ("page_view", "signup", "add_to_cart")))
    span_s = DAYS * 86_400
    per_slice = -(-rows // HISTORY_SLICES)
    with progress_bar() as progress:
        task = progress.add_task("writing the history into validated_events", total=HISTORY_SLICES)
        for number in range(HISTORY_SLICES):
            first, last = number * per_slice, min(rows, (number + 1) * per_slice)
            age_s = span_s - (F.col("id") * span_s / rows)  # oldest first
            happened = F.lit(now) - F.make_interval(secs=age_s)
            history = spark.range(first, last).select(
                F.lit(project_id).alias("projectId"),
                F.to_date(happened).alias("eventDate"),
                F.concat(F.lit("history-"), F.col("id").cast("string")).alias("eventId"),
                F.element_at(types, (F.col("id") % 3 + 1).cast("int")).alias("eventType"),
                F.concat(F.lit("u-"), (F.col("id") % 5_000).cast("string")).alias("userId"),
                happened.alias("timestamp"),
                (happened + F.expr("INTERVAL 2 SECONDS")).alias("receivedAt"),
                F.lit('{"path": "/"}').alias("properties"),
                F.lit("{}").alias("context"),
                F.lit(None).cast("int").alias("schemaVersion"),
                F.lit(raw_topic(project_id)).alias("topic"),
                (F.col("id") % 3).cast("int").alias("partition"),
                (F.col("id") / 3).cast("long").alias("offset"),
                F.lit(f"history-{number}").alias("batchId"),
            )
            typed = history.select(*(F.col(n).cast(fields[n].dataType).alias(n) for n in VALIDATED_COLUMNS))
            typed.write.format("delta").mode("append").save(path)
            progress.update(task, advance=1)


def compared_rows(spark: SparkSession, path: str, project_id: str, received: datetime) -> int:
    """The held rows the dedup of a batch received at ``received`` reads (untimed)."""
    near = received_near([received.replace(minute=0, second=0, microsecond=0)], DEFAULT_DEDUP_WINDOW)
    rows = spark.read.format("delta").load(path)
    return rows.where((F.col("projectId") == project_id) & near).count()


def lake_rows(spark: SparkSession, path: str) -> int:
    return spark.read.format("delta").load(path).count()


def run_steady(  # noqa: PLR0917 - the bench's knobs
    spark: SparkSession, settings: Settings, work: Path, history: int, batches: int, events: int
) -> tuple[list[BatchTiming], list[tuple[str, int, int]]]:
    servers = settings.kafka_bootstrap_servers
    project_id, schemas, loaded = load_batches(settings, batches, events)
    rules = QualityRules.of(
        max_event_age_s=settings.max_event_age_s, max_future_skew_s=settings.max_future_skew_s
    )
    lakes = {path: LakeTables(str(work / f"{path}-lake")) for path in PATHS}
    write_history(spark, lakes["etl"].validated_events, project_id, history, utc_now())
    for path in PATHS[1:]:
        shutil.copytree(lakes["etl"].validated_events, lakes[path].validated_events)
    with console.status("warming up each path on the first batch, in throwaway lakes (untimed) ..."):
        warm = work / "warm-up"
        run_batch(spark, servers, loaded[0].ranges, LakeTables(str(warm / "etl")), schemas, rules)
        ceiling_batch(spark, servers, loaded[0].ranges, LakeTables(str(warm / "ceiling")))
        judge_floor_batch(spark, servers, loaded[0].ranges, LakeTables(str(warm / "floor")))
        shutil.rmtree(warm)
    timings = []
    with progress_bar() as progress:
        task = progress.add_task("batches", total=len(loaded))
        for batch in loaded:
            before = lake_rows(spark, lakes["etl"].validated_events)
            compared = compared_rows(spark, lakes["etl"].validated_events, project_id, batch.received)
            shift = batch.number % len(PATHS)  # each path goes first, second and last in turn
            seconds, inserted, phases = {}, {}, {}
            for path in PATHS[shift:] + PATHS[:shift]:
                started = time.perf_counter()
                if path == "etl":
                    report = run_batch(spark, servers, batch.ranges, lakes[path], schemas, rules)
                    inserted[path], phases = report.validated_added, report.phases
                elif path == "ceiling":
                    inserted[path] = ceiling_batch(spark, servers, batch.ranges, lakes[path])
                else:
                    inserted[path] = judge_floor_batch(spark, servers, batch.ranges, lakes[path])
                seconds[path] = time.perf_counter() - started
            for path, expected in (("ceiling", batch.new_unique), ("floor", batch.new_valid)):
                if inserted[path] != expected:
                    raise BenchError(
                        f"batch {batch.number}: the {path} inserted {inserted[path]:,} "
                        f"events where {expected:,} were new"
                    )
            timings.append(
                BatchTiming(
                    number=batch.number,
                    lake_rows=before,
                    compared=compared,
                    records=batch.records,
                    etl_s=seconds["etl"],
                    ceiling_s=seconds["ceiling"],
                    floor_s=seconds["floor"],
                    inserted=inserted["etl"],
                    expected=batch.new_valid,
                    phases=phases,
                )
            )
            progress.update(task, advance=1, description=f"batch {batch.number}: {seconds['etl']:.1f} s")
    final = spark.read.format("delta").load(lakes["etl"].validated_events)
    rows, events_held = final.count(), final.select("projectId", "eventId").distinct().count()
    expected = history + sum(b.new_valid for b in loaded)
    checks = [
        *((f"batch {t.number}: new valid events inserted", t.expected, t.inserted) for t in timings),
        ("validated rows at the end", expected, rows),
        ("distinct events at the end", expected, events_held),
    ]
    return timings, checks
