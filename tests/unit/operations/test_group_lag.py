"""Lag, rate and hot partitions from end offsets, commits and the offsets of a minute ago."""

from __future__ import annotations

from analytics_pipeline.operations.group_lag import RATE_WINDOW_S, TopicEnds, group_lags
from analytics_pipeline.operations.status import StatusReport

T = "events.shop"


def test_lag_rate_and_a_partition_never_committed() -> None:
    ends = TopicEnds({(T, 0): 100, (T, 1): 50}, {(T, 0): 40, (T, 1): 50})
    rows = {(r.group, r.partition): r for r in group_lags(ends, {"stream": {(T, 0): 90}})}
    assert (rows[("stream", 0)].lag, rows[("stream", 0)].events_per_s) == (10, 60 / RATE_WINDOW_S)
    assert rows[("stream", 1)].committed is None
    assert rows[("stream", 1)].lag == 50
    assert rows[("stream", 1)].events_per_s == 0


def test_a_partition_lagging_over_twice_the_group_average_is_hot() -> None:
    ends = TopicEnds({(T, p): 1_000 for p in range(4)}, {})
    committed = {"etl": {(T, 0): 1_000, (T, 1): 1_000, (T, 2): 1_000, (T, 3): 0}}  # average lag 250
    hot = [(r.partition, r.hot) for r in group_lags(ends, committed)]
    assert hot == [(0, False), (1, False), (2, False), (3, True)]


def test_even_lag_is_not_hot_and_no_lag_never_is() -> None:
    ends = TopicEnds({(T, p): 10 for p in range(3)}, {})
    assert not any(r.hot for r in group_lags(ends, {"a": {}, "b": {(T, p): 10 for p in range(3)}}))


def test_the_report_names_every_alarm() -> None:
    ends = TopicEnds({(T, 0): 1_000, (T, 1): 1_000, (T, 2): 1_000, (T, 3): 1_000}, {})
    lags = group_lags(ends, {"etl": {(T, 0): 1_000, (T, 1): 1_000, (T, 2): 1_000, (T, 3): 0}})
    report = StatusReport([], lags, [], {"shop": 3, "blog": 2}, {"shop": 1})
    assert report.alarms == [
        "hot partition: events.shop/3 in etl, lag 1,000",
        "dead letters: shop holds 3, 1 not redriven (analytics dlq list --project shop)",
    ], "a project whose letters were all redriven raises none"
    assert report.as_json()["groups"] == {"etl": 1_000}


def test_a_topic_the_group_never_committed_on_has_no_hot_partition() -> None:
    other = "events.new"
    ends = TopicEnds({(T, 0): 10, (T, 1): 10, (other, 0): 5_000, (other, 1): 0, (other, 2): 0}, {})
    rows = group_lags(ends, {"etl": {(T, 0): 10, (T, 1): 10}})
    assert [r.lag for r in rows if r.topic == other] == [5_000, 0, 0]
    assert not any(r.hot for r in rows), "the group does not read events.new yet"
