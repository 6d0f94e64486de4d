"""Where a window's aggregates live in Redis, when they expire, and which metrics an event updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from analytics_pipeline.realtime.layout import (
    ACTIVE_USERS,
    ALL_EVENTS,
    MetricWindow,
    metrics_of,
    processed_key,
)
from analytics_pipeline.realtime.windows import Granularity

START = datetime(2026, 11, 26, 12, 34, tzinfo=UTC)


def test_key_names_project_metric_granularity_and_window():
    window = MetricWindow("shop-eu", "add_to_cart", Granularity.MINUTE, START)
    assert window.key == "metric:shop-eu:add_to_cart:1m:2026-11-26T12:34:00Z"
    assert window.users_key == "metric:shop-eu:add_to_cart:1m:2026-11-26T12:34:00Z:users"


@pytest.mark.parametrize(
    ("granularity", "start", "key"),
    [
        (
            Granularity.HOUR,
            datetime(2026, 11, 26, 12, tzinfo=UTC),
            "metric:p1:all_events:1h:2026-11-26T12:00:00Z",
        ),
        (Granularity.DAY, datetime(2026, 11, 26, tzinfo=UTC), "metric:p1:all_events:1d:2026-11-26T00:00:00Z"),
    ],
)
def test_key_spells_the_granularity_by_its_value(granularity, start, key):
    assert MetricWindow("p1", ALL_EVENTS, granularity, start).key == key


def test_key_of_a_window_given_with_an_offset_is_spelled_in_utc():
    start = datetime(2026, 11, 26, 14, tzinfo=timezone(timedelta(hours=2)))
    window = MetricWindow("p1", ACTIVE_USERS, Granularity.HOUR, start)
    assert window.users_key == "metric:p1:active_users:1h:2026-11-26T12:00:00Z:users"


@pytest.mark.parametrize(
    ("granularity", "ttl_windows", "expected"),
    [
        (Granularity.MINUTE, 2, START + timedelta(minutes=2)),
        (Granularity.MINUTE, 1.5, START + timedelta(seconds=90)),
        (Granularity.HOUR, 2, START + timedelta(hours=2)),
        (Granularity.DAY, 3, START + timedelta(days=3)),
    ],
)
def test_expires_at_is_start_plus_ttl_windows_widths(granularity, ttl_windows, expected):
    assert MetricWindow("p1", ALL_EVENTS, granularity, START).expires_at(ttl_windows) == expected


def test_only_active_users_has_no_event_count():
    assert not MetricWindow("p1", ACTIVE_USERS, Granularity.MINUTE, START).counts_events
    assert MetricWindow("p1", ALL_EVENTS, Granularity.MINUTE, START).counts_events
    assert MetricWindow("p1", "page_view", Granularity.MINUTE, START).counts_events


def test_an_event_updates_all_events_its_own_type_and_active_users():
    assert metrics_of("page_view") == (ALL_EVENTS, "page_view", ACTIVE_USERS)


@pytest.mark.parametrize("event_type", [ALL_EVENTS, ACTIVE_USERS])
def test_an_event_type_named_like_a_built_in_metric_is_counted_once(event_type):
    metrics = metrics_of(event_type)
    assert metrics == (ALL_EVENTS, ACTIVE_USERS)
    assert len(set(metrics)) == len(metrics)


def test_processed_key_is_per_project_and_event():
    assert processed_key("shop", "evt-1") == "processed:shop:evt-1"
    assert processed_key("shop", "evt-1") != processed_key("shop-eu", "evt-1")
