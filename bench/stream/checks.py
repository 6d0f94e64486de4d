"""The exactly-once evidence that is not in the worker's metrics: what the Redis aggregates hold."""

from __future__ import annotations

from datetime import timedelta

import redis

from analytics_pipeline.realtime.layout import ALL_EVENTS, COUNT_FIELD, MetricWindow
from analytics_pipeline.realtime.windows import Granularity, window_starts
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from bench.stream.worker_run import WorkerStats


def counted_in_redis(settings: Settings, project_id: str) -> int:
    """Sum of the all_events daily counts: every event lies in one open 1d window, so this is how
    many events the aggregates hold, whatever the closed 1m windows skipped."""
    now = utc_now()
    starts = window_starts(now - timedelta(days=1), now + timedelta(seconds=1), Granularity.DAY)
    keys = [MetricWindow(project_id, ALL_EVENTS, Granularity.DAY, start).key for start in starts]
    client = redis.Redis.from_url(settings.redis_url)
    try:
        return sum(int(client.hget(key, COUNT_FIELD) or 0) for key in keys)
    finally:
        client.close()


def sum_rejects(*runs: WorkerStats) -> int:
    return sum(stats.duplicates + stats.dead_lettered for stats in runs)
