"""The demo's live part: events sent now, and the per-minute counts the metrics API serves,
refreshed every second while the streaming worker aggregates them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console
from rich.live import Live
from rich.table import Table

from analytics_pipeline.loadgen.pacing import Pacer
from analytics_pipeline.loadgen.synthetic import EVENT_MIX, generate_events
from analytics_pipeline.query.client import Point, QueryClient
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.sdk import AnalyticsClient
from analytics_pipeline.timeutil import utc_now

METRICS = ("all_events", *EVENT_MIX, "active_users")


def send_live(api_url: str, api_key: str, seconds: float, rate: float, stop: threading.Event) -> int:
    """Synthetic events stamped with the current time, at ``rate`` per second; returns how many the
    server accepted."""
    pacer, deadline = Pacer(rate), time.monotonic() + seconds
    with AnalyticsClient(api_key, api_url) as client:
        for event in generate_events(int(seconds * rate), now=utc_now(), days=1):
            if stop.is_set() or time.monotonic() > deadline:
                break
            pacer.wait()
            client.track(event.event_type, event.user_id, event.properties)
        client.flush()
        return client.report().delivered


def minute_table(metrics: QueryClient, minutes: int, title: str) -> Table:
    """The last ``minutes`` 1-minute windows of every demo metric, read from the metrics API."""
    end = window_start(utc_now(), Granularity.MINUTE) + timedelta(minutes=1)
    series = {m: metrics.series(m, "1m", end - timedelta(minutes=minutes), end) for m in METRICS}
    table = Table("UTC", *METRICS, title=title)
    for index, point in enumerate(series["all_events"]):
        table.add_row(point.timestamp[11:16], *(_value(series[m][index]) for m in METRICS))
    return table


def _value(point: Point) -> str:
    return f"{point.value:,}" if point.value else "·"


@dataclass(frozen=True)
class LiveOutcome:
    delivered: int  # events the server accepted during the live part
    counted: int  # of the live minutes' events, those the metrics API counts

    @property
    def complete(self) -> bool:
        # At least: an event of the earlier load may carry a timestamp in the same minutes.
        return self.delivered > 0 and self.counted >= self.delivered


def run_live(
    console: Console,
    *,
    api_url: str,
    query_url: str,
    api_key: str,
    seconds: float,
    rate: float,
    settle_s: float = 30.0,
) -> LiveOutcome:
    """Send for ``seconds`` while showing the live table; then wait until the metrics API counts
    every live event (at most ``settle_s``), so a stalled streaming worker shows as a failure."""
    stop, result = threading.Event(), {}
    sender = threading.Thread(
        target=lambda: result.setdefault("sent", send_live(api_url, api_key, seconds, rate, stop)),
        daemon=True,
    )
    title = f"live per-minute counts from GET {query_url}/v1/metrics/{{metric}}?granularity=1m"
    first_minute = window_start(utc_now(), Granularity.MINUTE)
    with QueryClient(query_url, api_key) as metrics, Live(console=console, refresh_per_second=2) as live:
        sender.start()
        try:
            while sender.is_alive():
                live.update(minute_table(metrics, 3, title))
                sender.join(1.0)
        finally:
            stop.set()
            sender.join()
        delivered, counted = result.get("sent", 0), 0
        deadline = time.monotonic() + settle_s
        while True:
            live.update(minute_table(metrics, 3, title))
            counted = counted_since(metrics, first_minute)
            if counted >= delivered or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    console.print()
    return LiveOutcome(delivered, counted)


def counted_since(metrics: QueryClient, first_minute: datetime) -> int:
    """Events the metrics API counts in the 1-minute windows from ``first_minute`` to now."""
    end = window_start(utc_now(), Granularity.MINUTE) + timedelta(minutes=1)
    return sum(point.value for point in metrics.series("all_events", "1m", first_minute, end))
