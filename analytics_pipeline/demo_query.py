"""The demo's read side, once the lake holds its events: one SQL query (asked twice: computed,
then cached), a metric whose windows come from Redis and from the lake, and where one event is."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from analytics_pipeline.query.client import QueryClient
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now

DEMO_SQL = (
    "SELECT eventType, count(*) AS events, count(DISTINCT userId) AS users "
    "FROM events GROUP BY eventType ORDER BY events DESC"
)
LOOKUP_WAIT_S = 20.0  # the metadata indexer writes in batches, off the request path


def show_read_side(settings: Settings, console: Console, api_key: str, event_id: str) -> list[str]:
    """What the query API answers; the stages that failed."""
    with QueryClient(settings.query_api_url, api_key) as client:
        try:
            return [
                *show_sql(console, client),
                *show_fallback(console, client),
                *show_lookup(console, client, event_id),
            ]
        except httpx.HTTPError as exc:
            return [f"query API at {settings.query_api_url}: {exc}"]


def show_sql(console: Console, client: QueryClient) -> list[str]:
    first, second = client.sql(DEMO_SQL), client.sql(DEMO_SQL)
    table = Table(*first["columns"], title=f"POST /v1/query  {DEMO_SQL}")
    for row in first["rows"]:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    console.print(table)
    console.print(
        f"computed in {first['elapsedMs']:.0f} ms (cached: {first['cached']}), asked again: "
        f"{second['elapsedMs']:.1f} ms (cached: {second['cached']}); "
        f"lake complete up to {first['lakeCompleteUpTo']}"
    )
    if first["cached"] or not second["cached"] or not first["rows"]:
        return ["sql: expected rows, computed then cached"]
    return []


def show_fallback(console: Console, client: QueryClient) -> list[str]:
    """Three days of hourly windows: the recent ones from Redis, the expired ones from the lake."""
    end = window_start(utc_now(), Granularity.HOUR) + timedelta(hours=1)
    points = client.series("all_events", "1h", end - timedelta(days=3), end)
    sources = Counter(p.source for p in points)
    per_day: dict[str, Counter[str]] = {}
    for p in points:
        per_day.setdefault(p.timestamp[:10], Counter())[p.source] += p.value
    table = Table(
        "day (UTC)",
        "events from the lake",
        "events from Redis",
        title="GET /v1/metrics/all_events?granularity=1h",
    )
    for day, by_source in sorted(per_day.items()):
        table.add_row(day, f"{by_source['warehouse']:,}", f"{by_source['cache']:,}")
    console.print(table)
    console.print(
        f"{len(points)} hourly windows: {sources['cache']} from Redis, {sources['warehouse']} from the lake "
        "(Redis keeps an hour window for two hours; the lake keeps them all)"
    )
    if not sum(p.value for p in points if p.source == "warehouse"):
        return ["metrics fallback: no window came from the lake"]
    return []


def show_lookup(console: Console, client: QueryClient, event_id: str) -> list[str]:
    deadline = time.monotonic() + LOOKUP_WAIT_S
    found = client.event(event_id)
    while (found is None or found["accepted"] is None) and time.monotonic() < deadline:
        time.sleep(1)
        found = client.event(event_id)
    if found is None or found["accepted"] is None:
        return [
            f"event lookup: {event_id} not indexed within {LOOKUP_WAIT_S:.0f} s (is the metadata indexer up?)"
        ]
    accepted, stream, lake = found["accepted"], found["stream"], found["lake"]
    console.print(
        Panel.fit(
            f"accepted  {accepted['receivedAt']}  {accepted['topic']} partition {accepted['partition']} "
            f"offset {accepted['offset']}\n"
            f"stream    counted: {stream['counted']} (record {stream['position']})\n"
            f"lake      {lake['status']} {lake['detail']}",
            title=f"GET /v1/events/{event_id}",
        )
    )
    return []
