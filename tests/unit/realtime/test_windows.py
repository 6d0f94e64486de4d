"""Tumbling UTC windows aligned to the epoch: where a moment falls, what a range covers, how keys spell it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from analytics_pipeline.realtime.windows import Granularity, format_window, window_start, window_starts

M, H, D = Granularity.MINUTE, Granularity.HOUR, Granularity.DAY


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_widths_of_the_three_granularities():
    assert [g.value for g in Granularity] == ["1m", "1h", "1d"]
    assert (M.seconds, H.seconds, D.seconds) == (60, 3_600, 86_400)
    assert (M.width, H.width, D.width) == (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


@pytest.mark.parametrize(
    ("moment", "granularity", "expected"),
    [
        # exactly on a boundary: the window starting there
        (utc(2026, 11, 26, 12, 34), M, utc(2026, 11, 26, 12, 34)),
        (utc(2026, 11, 26, 12), H, utc(2026, 11, 26, 12)),
        (utc(2026, 11, 26), D, utc(2026, 11, 26)),
        # just before a boundary: still the previous window
        (utc(2026, 11, 26, 12, 34, 59, 999_999), M, utc(2026, 11, 26, 12, 34)),
        (utc(2026, 11, 26, 12, 59, 59, 999_999), H, utc(2026, 11, 26, 12)),
        (utc(2026, 11, 26, 23, 59, 59, 999_999), D, utc(2026, 11, 26)),
        # just after a boundary
        (utc(2026, 11, 26, 12, 35, 0, 1), M, utc(2026, 11, 26, 12, 35)),
        (utc(2026, 11, 26, 13, 0, 0, 1), H, utc(2026, 11, 26, 13)),
        (utc(2026, 11, 27, 0, 0, 0, 1), D, utc(2026, 11, 27)),
        # across a month and a year end
        (utc(2026, 12, 31, 23, 59, 30), H, utc(2026, 12, 31, 23)),
        (utc(2027, 1, 1, 0, 0, 30), D, utc(2027, 1, 1)),
    ],
)
def test_window_start_at_and_around_boundaries(moment, granularity, expected):
    start = window_start(moment, granularity)
    assert start == expected
    assert start.tzinfo is UTC


def test_an_offset_moment_falls_in_its_utc_window():
    """01:30 at +02:00 is 23:30 UTC the previous day: the day window is that UTC day, not the local one."""
    moment = datetime(2026, 11, 27, 1, 30, 15, tzinfo=timezone(timedelta(hours=2)))
    assert window_start(moment, M) == utc(2026, 11, 26, 23, 30)
    assert window_start(moment, H) == utc(2026, 11, 26, 23)
    assert window_start(moment, D) == utc(2026, 11, 26)
    assert window_start(moment, D).utcoffset() == timedelta(0)


def test_half_hour_offsets_are_not_mistaken_for_hour_boundaries():
    moment = datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))  # 06:30 UTC
    assert window_start(moment, H) == utc(2026, 11, 26, 6)


def test_window_starts_cover_from_the_window_of_start_up_to_end_exclusive():
    starts = window_starts(utc(2026, 11, 26, 12, 0, 40), utc(2026, 11, 26, 12, 3), M)
    assert starts == [utc(2026, 11, 26, 12, 0), utc(2026, 11, 26, 12, 1), utc(2026, 11, 26, 12, 2)]


def test_window_starts_include_a_window_that_end_only_enters():
    starts = window_starts(utc(2026, 11, 26, 12, 0, 40), utc(2026, 11, 26, 12, 3, 0, 1), M)
    assert starts[-1] == utc(2026, 11, 26, 12, 3)
    assert len(starts) == 4


def test_window_starts_of_a_range_inside_one_window():
    assert window_starts(utc(2026, 11, 26, 12, 10), utc(2026, 11, 26, 12, 20), H) == [utc(2026, 11, 26, 12)]


def test_window_starts_of_an_empty_range_are_empty():
    assert window_starts(utc(2026, 11, 26, 12), utc(2026, 11, 26, 12), M) == []


def test_window_starts_by_day_across_a_month_end():
    starts = window_starts(utc(2026, 11, 29, 18), utc(2026, 12, 2), D)
    assert starts == [utc(2026, 11, 29), utc(2026, 11, 30), utc(2026, 12, 1)]


def test_window_starts_with_an_offset_start_use_its_utc_window():
    start = datetime(2026, 11, 26, 14, 30, tzinfo=timezone(timedelta(hours=2)))  # 12:30 UTC
    assert window_starts(start, utc(2026, 11, 26, 14), H) == [utc(2026, 11, 26, 12), utc(2026, 11, 26, 13)]


def test_format_window_is_utc_to_the_second_with_a_z():
    assert format_window(utc(2026, 11, 26, 9, 5, 7)) == "2026-11-26T09:05:07Z"
    assert format_window(utc(2026, 1, 2)) == "2026-01-02T00:00:00Z"


def test_format_window_converts_an_offset_moment_to_utc():
    moment = datetime(2026, 11, 27, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert format_window(moment) == "2026-11-26T23:30:00Z"


def test_a_fractional_moment_before_the_epoch_falls_in_the_window_holding_it():
    assert window_start(utc(1969, 12, 31, 23, 59, 59, 500_000), M) == utc(1969, 12, 31, 23, 59)
