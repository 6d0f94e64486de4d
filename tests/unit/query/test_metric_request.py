"""The query of GET /v1/metrics/{metric}: a valid one parses, every 400 names the field at fault."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics_pipeline.query.metric_request import MetricRequest, parse_metric_request
from analytics_pipeline.realtime.windows import Granularity

START = "2026-11-26T12:00:00Z"
END = "2026-11-26T13:00:00Z"


def parse(metric="page_view", start=START, end=END, granularity=None, max_windows=1_440):
    return parse_metric_request(metric, start, end, granularity, max_windows=max_windows)


def fields(errors) -> list[str]:
    return [error.field for error in errors]


def test_a_valid_request_defaults_to_minute_windows():
    request, errors = parse()
    assert errors == []
    assert request == MetricRequest(
        "page_view",
        Granularity.MINUTE,
        datetime(2026, 11, 26, 12, tzinfo=UTC),
        datetime(2026, 11, 26, 13, tzinfo=UTC),
    )
    assert len(request.window_starts) == 60


@pytest.mark.parametrize(
    ("granularity", "expected"),
    [("1m", Granularity.MINUTE), ("1h", Granularity.HOUR), ("1d", Granularity.DAY)],
)
def test_each_granularity_is_accepted(granularity, expected):
    request, errors = parse(granularity=granularity)
    assert errors == []
    assert request.granularity is expected


@pytest.mark.parametrize("metric", ["all_events", "active_users", "add_to_cart", "a" * 64])
def test_built_in_metrics_and_event_types_are_accepted(metric):
    request, errors = parse(metric=metric)
    assert errors == []
    assert request.metric == metric


def test_times_with_an_offset_are_read_as_utc():
    request, _ = parse(start="2026-11-26T14:00:00+02:00", end="2026-11-26T14:30:00+02:00")
    assert request.start == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert request.end == datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "metric", ["Page_view", "page-view", "9lives", "", "a" * 65, "page view", "metric:x"]
)
def test_a_bad_metric_name_is_refused_on_the_metric_field(metric):
    request, errors = parse(metric=metric)
    assert request is None
    assert fields(errors) == ["metric"]
    assert "all_events" in errors[0].message


def test_a_metric_with_a_trailing_newline_is_refused():
    request, errors = parse(metric="page_view\n")
    assert request is None
    assert fields(errors) == ["metric"]


@pytest.mark.parametrize("granularity", ["5m", "1M", "minute", "1w", ""])
def test_an_unknown_granularity_is_refused_with_the_choices(granularity):
    request, errors = parse(granularity=granularity)
    assert request is None
    assert fields(errors) == ["granularity"]
    assert "1m, 1h, 1d" in errors[0].message


@pytest.mark.parametrize("field", ["startTime", "endTime"])
def test_a_missing_time_is_required(field):
    start, end = (None, END) if field == "startTime" else (START, None)
    request, errors = parse(start=start, end=end)
    assert request is None
    assert fields(errors) == [field]
    assert "required" in errors[0].message


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-11-26", "2026-11-26T12:00:00", "2026-13-01T00:00:00Z", ""]
)
@pytest.mark.parametrize("field", ["startTime", "endTime"])
def test_a_time_that_is_not_rfc_3339_is_refused(field, value):
    start, end = (value, END) if field == "startTime" else (START, value)
    request, errors = parse(start=start, end=end)
    assert request is None
    assert fields(errors) == [field]
    assert "RFC 3339" in errors[0].message


@pytest.mark.parametrize("end", [START, "2026-11-26T11:59:59Z"])
def test_end_time_must_be_after_start_time(end):
    request, errors = parse(end=end)
    assert request is None
    assert fields(errors) == ["endTime"]
    assert "after startTime" in errors[0].message


def test_too_many_windows_names_the_count_and_the_maximum():
    request, errors = parse(start="2026-11-26T00:00:00Z", end="2026-11-27T00:00:00Z", max_windows=100)
    assert request is None
    assert fields(errors) == ["endTime"]
    assert "1440 windows" in errors[0].message
    assert "at most 100" in errors[0].message


def test_the_window_limit_is_exact_at_the_boundary():
    request, errors = parse(start=START, end="2026-11-26T12:10:00Z", max_windows=10)
    assert errors == []
    assert len(request.window_starts) == 10

    request, errors = parse(start=START, end="2026-11-26T12:10:00.001Z", max_windows=10)
    assert request is None
    assert fields(errors) == ["endTime"]
    assert "11 windows" in errors[0].message


def test_the_window_count_starts_at_the_window_holding_start_time():
    """12:00:30 to 12:10:00 touches the 10 windows 12:00 to 12:09, as many as the aligned range."""
    request, errors = parse(start="2026-11-26T12:00:30Z", end="2026-11-26T12:10:00Z", max_windows=10)
    assert errors == []
    assert len(request.window_starts) == 10

    request, errors = parse(start="2026-11-26T12:00:30Z", end="2026-11-26T12:10:01Z", max_windows=10)
    assert request is None
    assert fields(errors) == ["endTime"]


def test_the_window_limit_counts_windows_of_the_requested_granularity():
    request, errors = parse(
        start="2026-11-20T00:00:00Z", end="2026-11-27T00:00:00Z", granularity="1d", max_windows=7
    )
    assert errors == []
    assert len(request.window_starts) == 7
    assert (
        parse(start="2026-11-20T00:00:00Z", end="2026-11-27T00:00:00Z", granularity="1h", max_windows=7)[0]
        is None
    )


def test_several_errors_are_reported_together():
    request, errors = parse(metric="Bad!", start=None, end="soon", granularity="2m")
    assert request is None
    assert sorted(fields(errors)) == ["endTime", "granularity", "metric", "startTime"]


def test_order_and_format_errors_are_reported_with_the_others():
    request, errors = parse(metric="Bad!", end="2026-11-26T11:00:00Z")
    assert request is None
    assert sorted(fields(errors)) == ["endTime", "metric"]
