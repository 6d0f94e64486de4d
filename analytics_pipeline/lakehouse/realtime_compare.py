"""Real-time against batch: the streaming worker's hourly counts in Redis beside validated_events.

Both count each event once by its event time, so for an hour whose aggregates Redis still holds,
and whose events both paths have read, the counts must be equal. The comparison covers complete
hours only (the current one is still filling) and reports every difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.query.realtime_reader import retained_from
from analytics_pipeline.realtime.layout import ALL_EVENTS, COUNT_FIELD, MetricWindow
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.timeutil import parse_rfc3339

HOUR = Granularity.HOUR
HOUR_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"


@dataclass(frozen=True)
class HourComparison:
    project_id: str
    hour: datetime
    realtime: int
    batch: int

    @property
    def difference(self) -> int:
        return self.realtime - self.batch


def comparable_hours(now: datetime, ttl_windows: float) -> list[datetime]:
    """Complete hours whose windows Redis still holds, oldest first."""
    first, current = retained_from(now, HOUR, ttl_windows), window_start(now, HOUR)
    return [first + timedelta(hours=n) for n in range(int((current - first) / timedelta(hours=1)))]


def realtime_hour_counts(
    client: redis.Redis, project_ids: list[str], hours: list[datetime]
) -> dict[tuple[str, datetime], int]:
    windows = [MetricWindow(p, ALL_EVENTS, HOUR, h) for p in project_ids for h in hours]
    with client.pipeline(transaction=False) as pipe:
        for window in windows:
            pipe.hget(window.key, COUNT_FIELD)
        replies = pipe.execute()
    return {(w.project_id, w.start): int(r or 0) for w, r in zip(windows, replies, strict=True)}


def batch_hour_counts(
    spark: SparkSession, validated_path: str, project_ids: list[str], hours: list[datetime]
) -> dict[tuple[str, datetime], int]:
    if not hours:
        return {}
    start, end = hours[0], hours[-1] + timedelta(hours=1)
    rows = (
        spark.read.format("delta")
        .load(validated_path)
        .where(F.col("projectId").isin(project_ids))
        .where(F.col("eventDate").between(F.lit(start.date()), F.lit(end.date())))
        .where((F.col("timestamp") >= F.lit(start)) & (F.col("timestamp") < F.lit(end)))
        # Formatted in the session's time zone (UTC): collect() would turn instants into local time.
        .groupBy("projectId", F.date_format(F.date_trunc("hour", "timestamp"), HOUR_FORMAT).alias("hour"))
        .count()
        .collect()
    )
    return {(r.projectId, parse_rfc3339(r.hour)): r["count"] for r in rows}


def compare_hours(
    spark: SparkSession,
    client: redis.Redis,
    validated_path: str,
    project_ids: list[str],
    *,
    now: datetime,
    ttl_windows: float,
) -> list[HourComparison]:
    """Every (project, complete retained hour) with its two counts, oldest first."""
    hours = comparable_hours(now, ttl_windows)
    realtime = realtime_hour_counts(client, project_ids, hours)
    batch = batch_hour_counts(spark, validated_path, project_ids, hours)
    return [
        HourComparison(p, h, realtime.get((p, h), 0), batch.get((p, h), 0))
        for p in sorted(project_ids)
        for h in hours
    ]
