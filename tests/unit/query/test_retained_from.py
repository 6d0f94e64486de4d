"""retained_from: the earliest window still in Redis (its expiry, start + ttl x width, is after now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.query.realtime_reader import retained_from
from analytics_pipeline.realtime.layout import MetricWindow
from analytics_pipeline.realtime.windows import Granularity, window_start


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "granularity", "ttl_windows", "expected"),
    [
        # ttl 2: the 12:08 window expires at 12:10:00, exactly now, so it is gone
        (utc(2026, 11, 26, 12, 10), Granularity.MINUTE, 2, utc(2026, 11, 26, 12, 9)),
        # a moment before 12:10 it is still there
        (utc(2026, 11, 26, 12, 9, 59, 999_999), Granularity.MINUTE, 2, utc(2026, 11, 26, 12, 8)),
        (utc(2026, 11, 26, 12, 10, 0, 1), Granularity.MINUTE, 2, utc(2026, 11, 26, 12, 9)),
        (utc(2026, 11, 26, 12, 10, 30), Granularity.MINUTE, 2, utc(2026, 11, 26, 12, 9)),
        # ttl 1.5: the 12:08 window expires at 12:09:30
        (utc(2026, 11, 26, 12, 9, 30), Granularity.MINUTE, 1.5, utc(2026, 11, 26, 12, 9)),
        (utc(2026, 11, 26, 12, 9, 29), Granularity.MINUTE, 1.5, utc(2026, 11, 26, 12, 8)),
        (utc(2026, 11, 26, 12, 10), Granularity.MINUTE, 1.5, utc(2026, 11, 26, 12, 9)),
        (utc(2026, 11, 26, 12, 10, 30), Granularity.MINUTE, 1.5, utc(2026, 11, 26, 12, 10)),
        (utc(2026, 11, 26, 12), Granularity.HOUR, 2, utc(2026, 11, 26, 11)),
        (utc(2026, 11, 26, 12, 30), Granularity.HOUR, 1.5, utc(2026, 11, 26, 12)),
        (utc(2026, 11, 26, 12, 29, 59), Granularity.HOUR, 1.5, utc(2026, 11, 26, 11)),
        (utc(2026, 11, 26, 0, 0, 1), Granularity.DAY, 2, utc(2026, 11, 25)),
    ],
)
def test_retained_from_at_and_around_a_boundary(now, granularity, ttl_windows, expected):
    assert retained_from(now, granularity, ttl_windows) == expected


@pytest.mark.parametrize("ttl_windows", [1, 1.5, 2, 2.25, 3])
@pytest.mark.parametrize("granularity", list(Granularity))
def test_retained_from_is_the_earliest_window_still_alive(granularity, ttl_windows):
    """Checked against the definition: its expiry is after now, and the window before it has expired."""
    for offset_s in range(0, 3 * granularity.seconds, max(1, granularity.seconds // 40)):
        now = utc(2026, 11, 26) + timedelta(seconds=offset_s, microseconds=offset_s % 7)
        retained = retained_from(now, granularity, ttl_windows)
        assert window_start(retained, granularity) == retained
        alive = MetricWindow("p", "all_events", granularity, retained)
        before = MetricWindow("p", "all_events", granularity, retained - granularity.width)
        assert alive.expires_at(ttl_windows) > now, now
        assert before.expires_at(ttl_windows) <= now, now
