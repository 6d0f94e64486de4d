"""Helpers of the RealtimeAggregator tests: events, an independent computation of the aggregates,
and what Redis holds for a project."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime

import redis

from analytics_pipeline.events.raw_record import RawEvent
from analytics_pipeline.realtime.aggregator import RealtimeAggregator
from analytics_pipeline.realtime.layout import MetricWindow
from analytics_pipeline.realtime.windows import Granularity

M, H, D = Granularity.MINUTE, Granularity.HOUR, Granularity.DAY
PROCESSED_TTL_S = 900


def aggregator(client, ttl_windows: float = 60.0) -> RealtimeAggregator:
    return RealtimeAggregator(client, ttl_windows=ttl_windows, processed_ttl_s=PROCESSED_TTL_S)


def apply(agg: RealtimeAggregator, events, first_offset: int = 0):
    """Apply as if the events were read from partition 0 at consecutive offsets."""
    return agg.apply(events, [f"0@{first_offset + i}" for i in range(len(events))])


def event(project_id, timestamp, event_type="page_view", user_id="u1", event_id=None) -> RawEvent:
    return RawEvent(
        project_id=project_id,
        event_id=event_id or f"evt-{uuid.uuid4().hex}",
        event_type=event_type,
        user_id=user_id,
        timestamp=timestamp,
        value={},
        received_at=timestamp,
    )


def floor_to(moment: datetime, granularity: Granularity) -> datetime:
    """Independent of window_start: whole widths since the epoch, by integer division."""
    epoch_s = int(moment.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % granularity.seconds, UTC)


def expected_aggregates(events) -> tuple[Counter, dict]:
    """Per (metric, granularity, window start): event count and the set of users; first eventId wins."""
    counts, users, seen = Counter(), defaultdict(set), set()
    for e in events:
        if (e.project_id, e.event_id) in seen:
            continue
        seen.add((e.project_id, e.event_id))
        for granularity in (M, H, D):
            start = floor_to(e.timestamp, granularity)
            counted = ["all_events"] + (
                [] if e.event_type in ("all_events", "active_users") else [e.event_type]
            )
            for metric in counted:
                counts[metric, granularity, start] += 1
            for metric in [*counted, "active_users"]:
                users[metric, granularity, start].add(e.user_id)
    return counts, users


def read_count(client, window: MetricWindow) -> int | None:
    value = client.hget(window.key, "count")
    return None if value is None else int(value)


def metric_keys(client, project_id: str) -> set[bytes]:
    return set(client.scan_iter(match=f"metric:{project_id}:*", count=1000))


def value_of(client, key: bytes) -> object:
    kind = client.type(key)
    if kind == b"hash":
        return client.hgetall(key)
    if kind == b"list":
        return client.lrange(key, 0, -1)
    try:
        return client.pfcount(key)
    except redis.exceptions.ResponseError:  # a plain string where a HyperLogLog belongs
        return client.get(key)


def state(client, project_id: str) -> dict[bytes, object]:
    """Every metric key of the project: its type, what it holds (PFCOUNT for a HyperLogLog), its expiry."""
    return {
        key: (client.type(key), value_of(client, key), client.expiretime(key))
        for key in metric_keys(client, project_id)
    }


def close_enough(actual: int, expected: int) -> bool:
    return abs(actual - expected) <= max(1, 0.02 * expected)


def now_utc() -> datetime:
    return datetime.now(UTC)
