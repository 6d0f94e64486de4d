"""lake_windows: exact counts and distinct users per window from the events, zero-filled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from analytics_pipeline.query.lake_metrics import lake_windows
from analytics_pipeline.query.sql_engine import QueryLimits
from analytics_pipeline.realtime.windows import Granularity

LIMITS = QueryLimits(time_s=5, max_rows=100)
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def events(*rows: tuple[datetime, str, str]) -> pa.Table:
    return pa.table(
        {
            "timestamp": pa.array([r[0] for r in rows], pa.timestamp("us", "UTC")),
            "eventType": [r[1] for r in rows],
            "userId": [r[2] for r in rows],
        }
    )


TABLE = events(
    (T0 + timedelta(minutes=1), "purchase", "u1"),
    (T0 + timedelta(minutes=1, seconds=30), "page_view", "u1"),
    (T0 + timedelta(minutes=1, seconds=59), "purchase", "u2"),
    (T0 + timedelta(minutes=3), "page_view", "u3"),
    (T0 + timedelta(hours=2), "purchase", "u1"),
)


def test_all_events_per_minute_zero_filled():
    starts = [T0 + timedelta(minutes=m) for m in range(4)]
    values = lake_windows(TABLE, "all_events", Granularity.MINUTE, starts, LIMITS)
    assert [(v.start, v.value, v.unique_users) for v in values] == [
        (starts[0], 0, 0),
        (starts[1], 3, 2),
        (starts[2], 0, 0),
        (starts[3], 1, 1),
    ]


def test_an_event_type_and_active_users_per_hour():
    starts = [T0 + timedelta(hours=h) for h in range(3)]
    purchases = lake_windows(TABLE, "purchase", Granularity.HOUR, starts, LIMITS)
    assert [v.value for v in purchases] == [2, 0, 1]
    users = lake_windows(TABLE, "active_users", Granularity.HOUR, starts, LIMITS)
    assert [v.value for v in users] == [3, 0, 1], "active_users' value is its distinct users"


def test_days_are_utc_days():
    values = lake_windows(TABLE, "all_events", Granularity.DAY, [datetime(2026, 12, 1, tzinfo=UTC)], LIMITS)
    assert values[0].value == 5
