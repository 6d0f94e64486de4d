"""RealtimeAggregator against a real Redis: exact counts, exactly-once marks, closed windows, TTLs, types."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from analytics_pipeline.events.raw_record import RawEvent
from analytics_pipeline.realtime.aggregator import RealtimeAggregator
from analytics_pipeline.realtime.layout import MetricWindow, event_types_key, processed_key
from analytics_pipeline.realtime.windows import Granularity

pytestmark = pytest.mark.integration

M, H, D = Granularity.MINUTE, Granularity.HOUR, Granularity.DAY
PROCESSED_TTL_S = 900


@pytest.fixture
def client(redis_server, stack_settings) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(stack_settings.redis_url)
    yield connection
    connection.close()


@pytest.fixture
def project_id(client) -> Iterator[str]:
    """A project of the test's own; its keys are removed afterwards (Redis is shared, never flushed)."""
    project = f"agg-{uuid.uuid4().hex[:8]}"
    yield project
    for pattern in (f"metric:{project}:*", f"processed:{project}:*", f"types:{project}:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def aggregator(client, ttl_windows: float = 60.0) -> RealtimeAggregator:
    return RealtimeAggregator(client, ttl_windows=ttl_windows, processed_ttl_s=PROCESSED_TTL_S)


def apply(agg: RealtimeAggregator, events, first_offset: int = 0):
    """Apply as if the events were read from partition 0 at consecutive offsets."""
    return agg.apply(events, [f"0@{first_offset + i}" for i in range(len(events))])


def event(project_id, timestamp, event_type="page_view", user_id="u1", event_id=None) -> RawEvent:
    return RawEvent(
        project_id=project_id,
        event_id=event_id or f"evt-{uuid.uuid4().hex}",
        event_type=event_type,
        user_id=user_id,
        timestamp=timestamp,
        value={},
        received_at=timestamp,
    )


def floor_to(moment: datetime, granularity: Granularity) -> datetime:
    """Independent of window_start: whole widths since the epoch, by integer division."""
    epoch_s = int(moment.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % granularity.seconds, UTC)


def expected_aggregates(events) -> tuple[Counter, dict]:
    """Per (metric, granularity, window start): event count and the set of users; first eventId wins."""
    counts, users, seen = Counter(), defaultdict(set), set()
    for e in events:
        if (e.project_id, e.event_id) in seen:
            continue
        seen.add((e.project_id, e.event_id))
        for granularity in (M, H, D):
            start = floor_to(e.timestamp, granularity)
            counted = ["all_events"] + (
                [] if e.event_type in ("all_events", "active_users") else [e.event_type]
            )
            for metric in counted:
                counts[metric, granularity, start] += 1
            for metric in [*counted, "active_users"]:
                users[metric, granularity, start].add(e.user_id)
    return counts, users


def read_count(client, window: MetricWindow) -> int | None:
    value = client.hget(window.key, "count")
    return None if value is None else int(value)


def metric_keys(client, project_id: str) -> set[bytes]:
    return set(client.scan_iter(match=f"metric:{project_id}:*", count=1000))


def value_of(client, key: bytes) -> object:
    kind = client.type(key)
    if kind == b"hash":
        return client.hgetall(key)
    if kind == b"list":
        return client.lrange(key, 0, -1)
    try:
        return client.pfcount(key)
    except redis.exceptions.ResponseError:  # a plain string where a HyperLogLog belongs
        return client.get(key)


def state(client, project_id: str) -> dict[bytes, object]:
    """Every metric key of the project: its type, what it holds (PFCOUNT for a HyperLogLog), its expiry."""
    return {
        key: (client.type(key), value_of(client, key), client.expiretime(key))
        for key in metric_keys(client, project_id)
    }


def close_enough(actual: int, expected: int) -> bool:
    return abs(actual - expected) <= max(1, 0.02 * expected)


def now_utc() -> datetime:
    return datetime.now(UTC)


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
    assert state(client, project_id) == counted


def test_expiry_is_absolute_and_not_pushed_back_by_later_events(client, project_id):
    now = now_utc()
    agg = aggregator(client, ttl_windows=5)
    apply(agg, [event(project_id, now)])
    window = MetricWindow(project_id, "all_events", H, floor_to(now, H))
    first_expiry = client.expiretime(window.key)
    apply(agg, [event(project_id, now)])
    assert client.expiretime(window.key) == first_expiry
    assert read_count(client, window) == 2


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
