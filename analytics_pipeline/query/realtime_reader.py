"""Read metric windows back from the real-time aggregates in Redis (one pipelined round trip)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from analytics_pipeline.realtime.layout import COUNT_FIELD, TYPES_GRANULARITY, MetricWindow, event_types_key
from analytics_pipeline.realtime.windows import Granularity, window_start


@dataclass(frozen=True)
class WindowValue:
    start: datetime
    value: int  # the event count; for active_users, the unique users
    unique_users: int


def retained_from(now: datetime, granularity: Granularity, ttl_windows: float) -> datetime:
    """The earliest window start whose aggregates are still in Redis (older ones have expired)."""
    oldest_live = now - timedelta(seconds=granularity.seconds * ttl_windows)
    return window_start(oldest_live, granularity) + granularity.width


async def read_windows(
    client: aioredis.Redis, project_id: str, metric: str, granularity: Granularity, starts: list[datetime]
) -> list[WindowValue]:
    """Per window: its event count and unique users; zeros where Redis holds nothing.

    ``active_users`` has no count of its own: its value is its unique users.
    """
    windows = [MetricWindow(project_id, metric, granularity, start) for start in starts]
    async with client.pipeline(transaction=False) as pipe:
        for window in windows:
            if window.counts_events:  # active_users has no count key: asking for it is a wasted call
                pipe.hget(window.key, COUNT_FIELD)
            pipe.pfcount(window.users_key)
        replies = iter(await pipe.execute())
    values = []
    for window in windows:
        count = next(replies) if window.counts_events else None
        unique = int(next(replies))
        value = int(count or 0) if window.counts_events else unique
        values.append(WindowValue(window.start, value, unique))
    return values


async def read_live_types(
    client: aioredis.Redis, project_id: str, hours: list[datetime], limit: int
) -> list[str]:
    """The eventTypes counted in these hour windows, busiest first (by their hour counts), at most
    ``limit``: from each hour's set of types, never a scan of the keyspace."""
    types = sorted(
        member.decode()
        for member in await client.sunion([event_types_key(project_id, hour) for hour in hours])
    )
    if not types:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for event_type in types:
            for hour in hours:
                pipe.hget(MetricWindow(project_id, event_type, TYPES_GRANULARITY, hour).key, COUNT_FIELD)
        replies = iter(await pipe.execute())
    totals = {event_type: sum(int(next(replies) or 0) for _hour in hours) for event_type in types}
    return sorted(types, key=lambda event_type: (-totals[event_type], event_type))[:limit]
