"""RealtimeAggregator against a real Redis: keys of the wrong type fail a batch before any write,
marks hold their positions, large windows count every user, and each hour keeps its event types."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from analytics_pipeline.realtime.layout import MetricWindow, event_types_key, processed_key
from tests.support.aggregator_state import (
    D,
    H,
    M,
    aggregator,
    apply,
    close_enough,
    event,
    floor_to,
    metric_keys,
    now_utc,
    read_count,
    state,
)

pytestmark = pytest.mark.integration


def corrupt_count_key(client, window: MetricWindow) -> None:
    client.set(window.key, "not a hash")


def corrupt_users_key(client, window: MetricWindow) -> None:
    client.set(window.users_key, "not a hyperloglog")


def corrupt_with_a_list(client, window: MetricWindow) -> None:
    client.rpush(window.key, "x")


@pytest.mark.parametrize("corrupt", [corrupt_count_key, corrupt_users_key, corrupt_with_a_list])
def test_a_key_of_the_wrong_type_fails_the_batch_before_any_write(client, project_id, corrupt):
    now = now_utc()
    earlier = now - timedelta(minutes=2)
    agg = aggregator(client)
    apply(
        agg, [event(project_id, earlier, user_id="before"), event(project_id, now, "add_to_cart", "before")]
    )
    broken = MetricWindow(project_id, "all_events", M, floor_to(now + timedelta(minutes=1), M))
    corrupt(client, broken)
    before = state(client, project_id)
    batch = [
        event(project_id, earlier, user_id="x1"),  # windows that exist and would change
        event(project_id, now, "add_to_cart", "x2"),
        event(project_id, now, "signup", "x3"),  # windows that would be created
        event(project_id, now + timedelta(minutes=1), user_id="x4"),  # the broken window, last
    ]

    with pytest.raises(redis.exceptions.ResponseError) as failure:
        apply(agg, batch)

    assert str(failure.value).startswith("WRONGTYPE"), str(failure.value)
    assert client.exists(*(processed_key(project_id, e.event_id) for e in batch)) == 0
    assert state(client, project_id) == before


def test_more_than_a_thousand_users_in_one_window_are_all_counted(client, project_id):
    now = now_utc()
    batch = [event(project_id, now, user_id=f"user-{i}") for i in range(2_500)]
    batch += [event(project_id, now, user_id=f"user-{i}") for i in range(0, 2_500, 5)]  # repeat visitors

    effect = apply(aggregator(client), batch)

    assert effect.applied == 3_000
    for granularity in (M, H, D):
        start = floor_to(now, granularity)
        assert read_count(client, MetricWindow(project_id, "all_events", granularity, start)) == 3_000
        for metric in ("all_events", "page_view", "active_users"):
            unique = client.pfcount(MetricWindow(project_id, metric, granularity, start).users_key)
            assert close_enough(unique, 2_500), (metric, granularity, unique)


def test_a_mark_holds_the_position_of_the_record_that_counted_the_event(client, project_id):
    now = now_utc()
    agg = aggregator(client)
    batch = [event(project_id, now, user_id=f"u{i}") for i in range(3)]
    apply(agg, batch, first_offset=40)
    marks = [client.get(processed_key(project_id, e.event_id)) for e in batch]
    assert marks == [b"0@40", b"0@41", b"0@42"]


def test_a_mark_of_the_wrong_type_fails_the_batch_before_any_write(client, project_id):
    now = now_utc()
    batch = [event(project_id, now, user_id=f"u{i}") for i in range(3)]
    client.hset(processed_key(project_id, batch[2].event_id), "x", "1")  # the last event's mark

    with pytest.raises(redis.exceptions.ResponseError, match=r"^WRONGTYPE"):
        apply(aggregator(client), batch)

    assert client.exists(*(processed_key(project_id, e.event_id) for e in batch[:2])) == 0
    assert metric_keys(client, project_id) == set()


def test_each_hour_keeps_the_set_of_its_event_types_as_long_as_the_hour(client, project_id):
    now = now_utc()
    hour = floor_to(now, H)
    earlier = hour - timedelta(minutes=30)
    apply(
        aggregator(client, ttl_windows=2),
        [
            event(project_id, now, "page_view"),
            event(project_id, now, "signup"),
            event(project_id, now, "all_events"),  # a built-in metric's name is no type of its own
            event(project_id, earlier, "purchase"),
        ],
    )
    assert client.smembers(event_types_key(project_id, hour)) == {b"page_view", b"signup"}
    assert client.smembers(event_types_key(project_id, floor_to(earlier, H))) == {b"purchase"}
    assert client.expiretime(event_types_key(project_id, hour)) == int(hour.timestamp()) + 2 * H.seconds


def test_a_types_set_of_the_wrong_type_fails_the_batch_before_any_write(client, project_id):
    now = now_utc()
    client.set(event_types_key(project_id, floor_to(now, H)), "not a set")
    batch = [event(project_id, now, "page_view")]
    with pytest.raises(redis.exceptions.ResponseError) as failure:
        apply(aggregator(client), batch)
    assert str(failure.value).startswith("WRONGTYPE"), str(failure.value)
    assert client.exists(processed_key(project_id, batch[0].event_id)) == 0
    assert state(client, project_id) == {}
