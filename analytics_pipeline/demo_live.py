"""The demo's live part: events sent now, and the per-minute counts the metrics API serves,
refreshed every second while the streaming worker aggregates them."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from rich.console import Console
from rich.live import Live
from rich.table import Table

from analytics_pipeline.loadgen.pacing import Pacer
from analytics_pipeline.loadgen.synthetic import EVENT_MIX, generate_events
from analytics_pipeline.query.client import MetricsClient, Point
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.sdk import AnalyticsClient
from analytics_pipeline.timeutil import utc_now

METRICS = ("all_events", *EVENT_MIX, "active_users")


def send_live(api_url: str, api_key: str, seconds: float, rate: float, stop: threading.Event) -> int:
    """Synthetic events stamped with the current time, at ``rate`` per second; returns how many."""
    pacer, deadline, sent = Pacer(rate), time.monotonic() + seconds, 0
    with AnalyticsClient(api_key, api_url) as client:
        for event in generate_events(int(seconds * rate), now=utc_now(), days=1):
            if stop.is_set() or time.monotonic() > deadline:
                break
            pacer.wait()
            client.track(event.event_type, event.user_id, event.properties)
            sent += 1
        client.flush()
    return sent


def minute_table(metrics: MetricsClient, minutes: int, title: str) -> Table:
    """The last ``minutes`` 1-minute windows of every demo metric, read from the metrics API."""
    end = window_start(utc_now(), Granularity.MINUTE) + timedelta(minutes=1)
    series = {m: metrics.series(m, "1m", end - timedelta(minutes=minutes), end) for m in METRICS}
    table = Table("UTC", *METRICS, title=title)
    for index, point in enumerate(series["all_events"]):
        table.add_row(point.timestamp[11:16], *(_value(series[m][index]) for m in METRICS))
    return table


def _value(point: Point) -> str:
    return f"{point.value:,}" if point.value else "·"


def run_live(
    console: Console, *, api_url: str, query_url: str, api_key: str, seconds: float, rate: float
) -> int:
    """Send for ``seconds`` while showing the live table; then wait a little for the last windows."""
    stop, result = threading.Event(), {}
    sender = threading.Thread(
        target=lambda: result.setdefault("sent", send_live(api_url, api_key, seconds, rate, stop)),
        daemon=True,
    )
    title = f"live per-minute counts from GET {query_url}/v1/metrics/{{metric}}?granularity=1m"
    with MetricsClient(query_url, api_key) as metrics, Live(console=console, refresh_per_second=2) as live:
        sender.start()
        try:
            while sender.is_alive():
                live.update(minute_table(metrics, 3, title))
                sender.join(1.0)
            time.sleep(2.0)  # the worker's last batch
            live.update(minute_table(metrics, 3, title))
        finally:
            stop.set()
            sender.join()
    console.print()
    return result.get("sent", 0)
