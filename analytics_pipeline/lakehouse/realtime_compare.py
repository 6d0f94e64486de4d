"""Real-time against batch: the streaming worker's hourly counts in Redis beside the lake.

Both count each event that keeps the raw-record contract once, by its event time. The lake holds
such an event in validated_events, or in quarantined_events when the property schema it was
accepted under or a quality rule barred it (the worker counts those too). So for every hour
whose aggregates Redis still holds, the current one included, the two counts must be equal,
except in hours that records the worker has read and the lake has not yet fall in: those hours
are left out, so the comparison covers exactly what both sides hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.kafka_io.admin import TopicRecord
from analytics_pipeline.lakehouse.delta_tables import is_delta_table
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.tables import CONTRACT
from analytics_pipeline.query.realtime_reader import retained_from
from analytics_pipeline.realtime.layout import ALL_EVENTS, COUNT_FIELD, MetricWindow
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.timeutil import parse_rfc3339

HOUR = Granularity.HOUR
HOUR_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
ProjectHour = tuple[str, datetime]


@dataclass(frozen=True)
class HourComparison:
    project_id: str
    hour: datetime
    realtime: int
    batch: int

    @property
    def difference(self) -> int:
        return self.realtime - self.batch


def retained_hours(now: datetime, ttl_windows: float) -> list[datetime]:
    """Hours whose windows Redis still holds, the current one included, oldest first."""
    first, current = retained_from(now, HOUR, ttl_windows), window_start(now, HOUR)
    return [first + timedelta(hours=n) for n in range(int((current - first) / timedelta(hours=1)) + 1)]


def hours_of(records: Iterable[TopicRecord]) -> set[ProjectHour]:
    """The (project, hour) of each record that keeps the contract: where it counts in Redis."""
    found = set()
    for record in records:
        event, _problems = parse_raw_record(record.topic, record.key, record.value)
        if event is not None:
            found.add((event.project_id, window_start(event.timestamp, HOUR)))
    return found


def realtime_hour_counts(
    client: redis.Redis, project_ids: list[str], hours: list[datetime]
) -> dict[ProjectHour, int]:
    windows = [MetricWindow(p, ALL_EVENTS, HOUR, h) for p in project_ids for h in hours]
    with client.pipeline(transaction=False) as pipe:
        for window in windows:
            pipe.hget(window.key, COUNT_FIELD)
        replies = pipe.execute()
    return {(w.project_id, w.start): int(r or 0) for w, r in zip(windows, replies, strict=True)}


def lake_hour_counts(
    spark: SparkSession, tables: LakeTables, project_ids: list[str], hours: list[datetime]
) -> dict[ProjectHour, int]:
    """Distinct events per (project, hour): validated, or quarantined past the contract."""
    if not hours:
        return {}
    start, end = hours[0], hours[-1] + timedelta(hours=1)
    counted = _events(spark, tables.validated_events)
    if is_delta_table(spark, tables.quarantined_events):
        quarantined = _events(spark, tables.quarantined_events).where(F.col("stage") != CONTRACT)
        counted = counted.unionByName(quarantined.drop("stage"))
    rows = (
        counted.where(F.col("projectId").isin(project_ids))
        .where(F.col("eventDate").between(F.lit(start.date()), F.lit(end.date())))
        .where((F.col("timestamp") >= F.lit(start)) & (F.col("timestamp") < F.lit(end)))
        .dropDuplicates(["projectId", "eventId"])
        # Formatted in the session's time zone (UTC): collect() would turn instants into local time.
        .groupBy("projectId", F.date_format(F.date_trunc("hour", "timestamp"), HOUR_FORMAT).alias("hour"))
        .count()
        .collect()
    )
    return {(r.projectId, parse_rfc3339(r.hour)): r["count"] for r in rows}


def _events(spark: SparkSession, path: str) -> DataFrame:
    table = spark.read.format("delta").load(path)
    columns = ["projectId", "eventId", "eventDate", "timestamp"]
    return table.select(*columns, "stage") if "stage" in table.columns else table.select(*columns)


def compare_hours(
    spark: SparkSession,
    client: redis.Redis,
    tables: LakeTables,
    project_ids: list[str],
    *,
    now: datetime,
    ttl_windows: float,
    unread_by_lake: set[ProjectHour],
) -> list[HourComparison]:
    """Every (project, retained hour) both sides hold, with its two counts, oldest first.
    ``unread_by_lake``: the (project, hour)s of records the worker counted and the lake has not
    read yet, left out."""
    hours = retained_hours(now, ttl_windows)
    realtime = realtime_hour_counts(client, project_ids, hours)
    batch = lake_hour_counts(spark, tables, project_ids, hours)
    return [
        HourComparison(p, h, realtime.get((p, h), 0), batch.get((p, h), 0))
        for p in sorted(project_ids)
        for h in hours
        if (p, h) not in unread_by_lake
    ]
