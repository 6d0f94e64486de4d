"""The aggregates a load should produce, computed independently of the worker (plain Python)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from analytics_pipeline.timeutil import parse_rfc3339

SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}


@dataclass
class Window:
    count: int = 0
    users: set[str] = field(default_factory=set)


def floor(moment: datetime, granularity: str) -> str:
    width = SECONDS[granularity]
    start = datetime.fromtimestamp(int(moment.timestamp()) // width * width, UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_windows(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], Window]:
    """(metric, granularity, window start) -> count and users, for all_events, each type, active_users."""
    windows: dict[tuple[str, str, str], Window] = defaultdict(Window)
    for event in events:
        moment = parse_rfc3339(event["timestamp"])
        for granularity in SECONDS:
            start = floor(moment, granularity)
            for metric in ("all_events", event["eventType"], "active_users"):
                window = windows[(metric, granularity, start)]
                window.count += 1
                window.users.add(event["userId"])
    return windows


def close_enough(estimate: int, exact: int) -> bool:
    """HyperLogLog: Redis states a standard error of 0.81 %. A test compares hundreds of windows,
    so allow five standard errors (and two users for tiny sets), which chance never exceeds."""
    return abs(estimate - exact) <= max(2, 5 * 0.0081 * exact)
