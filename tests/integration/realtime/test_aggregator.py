"""RealtimeAggregator against a real Redis: exact counts, replays, closed windows and TTLs."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

import pytest

from analytics_pipeline.realtime.aggregator import RealtimeAggregator
from analytics_pipeline.realtime.layout import MetricWindow, processed_key
from tests.support.aggregator_state import (
    D,
    H,
    M,
    aggregator,
    apply,
    close_enough,
    event,
    expected_aggregates,
    floor_to,
    metric_keys,
    now_utc,
    read_count,
    state,
)

pytestmark = pytest.mark.integration


def test_counts_and_unique_users_match_an_independent_computation(client, project_id):
    rng = random.Random(7)
    now = now_utc()
    users = [f"user-{i}" for i in range(25)]
    batch = [
        event(
            project_id,
            now - timedelta(seconds=rng.randrange(0, 6 * 60)),
            event_type=rng.choice(["page_view", "add_to_cart"]),
            user_id=rng.choice(users),
        )
        for _ in range(300)
    ]
    expected_counts, expected_users = expected_aggregates(batch)
    assert len({start for (_, g, start) in expected_counts if g is M}) >= 5, "spread over several minutes"

    effect = apply(aggregator(client), batch)

    assert (effect.total, effect.applied, effect.duplicates, effect.closed) == (
        300,
        300,
        frozenset(),
        Counter(),
    )
    for (metric, granularity, start), users_there in expected_users.items():
        window = MetricWindow(project_id, metric, granularity, start)
        if metric == "active_users":
            assert not client.exists(window.key), "active_users has no count of its own"
        else:
            assert read_count(client, window) == expected_counts[metric, granularity, start], window.key
        unique = client.pfcount(window.users_key)
        assert close_enough(unique, len(users_there)), (window.users_key, unique, len(users_there))
    # nothing but these keys was written
    expected_keys = {
        MetricWindow(project_id, metric, g, start).key.encode() for (metric, g, start) in expected_counts
    } | {
        MetricWindow(project_id, metric, g, start).users_key.encode() for (metric, g, start) in expected_users
    }
    assert metric_keys(client, project_id) == expected_keys
    # the snapshots are the windows as they now stand in Redis
    assert {(s.window.metric, s.window.granularity, s.window.start) for s in effect.snapshots} == set(
        expected_users
    )
    for snapshot in effect.snapshots:
        window = snapshot.window
        assert snapshot.count == (None if window.metric == "active_users" else read_count(client, window))
        assert snapshot.unique_users == client.pfcount(window.users_key)


def test_an_event_type_named_all_events_is_counted_once(client, project_id):
    now = now_utc()
    batch = [
        event(project_id, now, event_type="all_events", user_id="a"),
        event(project_id, now, event_type="page_view", user_id="b"),
    ]
    apply(aggregator(client), batch)
    assert read_count(client, MetricWindow(project_id, "all_events", M, floor_to(now, M))) == 2
    assert client.pfcount(MetricWindow(project_id, "active_users", M, floor_to(now, M)).users_key) == 2


def test_a_redelivered_batch_changes_nothing_and_is_reported_as_replayed(client, project_id):
    now = now_utc()
    batch = [
        event(project_id, now - timedelta(minutes=i % 3), event_type=t, user_id=f"u{i % 4}")
        for i, t in enumerate(["page_view", "add_to_cart"] * 10)
    ]
    agg = aggregator(client)
    first = apply(agg, batch)
    after_first = state(client, project_id)

    second = apply(agg, batch)  # the same records again: a replay after a crash
    elsewhere = apply(agg, batch, first_offset=1000)  # the same eventIds from other records

    assert first.duplicates == first.replays == frozenset()
    assert (second.replays, second.duplicates) == (frozenset(range(len(batch))), frozenset())
    assert (elsewhere.duplicates, elsewhere.replays) == (frozenset(range(len(batch))), frozenset())
    assert (second.total, second.applied, elsewhere.applied) == (20, 0, 0)
    assert state(client, project_id) == after_first
    assert {(s.window, s.count, s.unique_users) for s in second.snapshots} == {
        (s.window, s.count, s.unique_users) for s in first.snapshots
    }


def test_the_same_event_id_twice_in_one_batch_counts_once_and_the_first_wins(client, project_id):
    now = now_utc()
    original = event(project_id, now, event_type="page_view", user_id="alice", event_id="evt-same")
    again = event(project_id, now, event_type="add_to_cart", user_id="bob", event_id="evt-same")
    other = event(project_id, now, event_type="page_view", user_id="carol")

    effect = apply(aggregator(client), [original, again, other])

    start = floor_to(now, M)
    assert effect.duplicates == frozenset({1})
    assert effect.applied == 2
    assert read_count(client, MetricWindow(project_id, "all_events", M, start)) == 2
    assert read_count(client, MetricWindow(project_id, "page_view", M, start)) == 2
    assert not client.exists(MetricWindow(project_id, "add_to_cart", M, start).key)
    assert client.pfcount(MetricWindow(project_id, "active_users", M, start).users_key) == 2


def test_the_same_event_id_in_two_projects_counts_in_both(client, project_id):
    now = now_utc()
    other_project = f"{project_id}-b"
    agg = aggregator(client)
    try:
        effect = apply(
            agg,
            [event(project_id, now, event_id="evt-shared"), event(other_project, now, event_id="evt-shared")],
        )
        assert effect.duplicates == frozenset()
        for project in (project_id, other_project):
            assert read_count(client, MetricWindow(project, "all_events", M, floor_to(now, M))) == 1
    finally:
        client.delete(*metric_keys(client, other_project), processed_key(other_project, "evt-shared"))


def test_an_event_in_an_expired_window_is_not_counted_there_but_still_in_longer_windows(client, project_id):
    late_at = now_utc() - timedelta(minutes=10)
    late = event(project_id, late_at, event_type="page_view", user_id="late-user")

    effect = apply(aggregator(client, ttl_windows=2), [late])

    minute = floor_to(late_at, M)
    for metric in ("all_events", "page_view", "active_users"):
        window = MetricWindow(project_id, metric, M, minute)
        assert not client.exists(window.key, window.users_key), f"{window.key} was resurrected"
    assert effect.closed == Counter({M: 1})
    assert effect.applied == 1
    assert all(s.window.granularity is not M for s in effect.snapshots)
    for granularity in (H, D):
        start = floor_to(late_at, granularity)
        assert read_count(client, MetricWindow(project_id, "all_events", granularity, start)) == 1
        assert read_count(client, MetricWindow(project_id, "page_view", granularity, start)) == 1
        assert client.pfcount(MetricWindow(project_id, "active_users", granularity, start).users_key) == 1
    assert not any(key.split(b":")[3] == b"1m" for key in metric_keys(client, project_id))


@pytest.mark.parametrize("ttl_windows", [5, 1.5])
def test_keys_expire_at_window_start_plus_ttl_windows_widths(client, project_id, ttl_windows):
    now = now_utc()
    e = event(project_id, now, event_type="add_to_cart", user_id="u1")

    apply(aggregator(client, ttl_windows=ttl_windows), [e])

    for granularity in (M, H, D):
        start = floor_to(now, granularity)
        expected = int(start.timestamp() + ttl_windows * granularity.seconds)
        for metric in ("all_events", "add_to_cart", "active_users"):
            window = MetricWindow(project_id, metric, granularity, start)
            if window.counts_events:
                assert client.expiretime(window.key) == expected, window.key
            assert client.expiretime(window.users_key) == expected, window.users_key
    day_expiry = int(floor_to(now, D).timestamp() + ttl_windows * D.seconds)
    assert client.expiretime(processed_key(project_id, e.event_id)) == day_expiry, "as long as its day"


def test_a_mark_outlives_its_minimum_ttl_while_a_window_it_counted_into_is_held(client, project_id):
    """A replay long after the first pass (the group's offsets moved back) counts nothing twice
    while the event's windows are held; an event all of whose windows are closed keeps its mark
    for the minimum ttl only."""
    now = now_utc()
    agg = RealtimeAggregator(client, ttl_windows=2.0, processed_ttl_s=1)
    held = [event(project_id, now - timedelta(minutes=i), user_id=f"u{i}") for i in range(5)]
    closed = event(project_id, now - timedelta(days=3))
    first = apply(agg, [*held, closed])
    counted = state(client, project_id)
    time.sleep(2.2)  # past the minimum ttl of every mark
    assert client.exists(processed_key(project_id, closed.event_id)) == 0, "its windows were all closed"

    again = apply(agg, [*held, closed])

    assert first.replays == frozenset()
    assert again.replays == frozenset(range(len(held)))
    after = state(client, project_id)
    read_at = time.time()
    assert after == {key: counted[key] for key in after if key in counted}, "nothing counted twice"
    # The 1m windows of ttl_windows=2.0 may expire during the sleep (a minute's end fell in it).
    assert {key for key, (_, _, expiry) in counted.items() if expiry > read_at} <= after.keys()


def test_expiry_is_absolute_and_not_pushed_back_by_later_events(client, project_id):
    now = now_utc()
    agg = aggregator(client, ttl_windows=5)
    apply(agg, [event(project_id, now)])
    window = MetricWindow(project_id, "all_events", H, floor_to(now, H))
    first_expiry = client.expiretime(window.key)
    apply(agg, [event(project_id, now)])
    assert client.expiretime(window.key) == first_expiry
    assert read_count(client, window) == 2
