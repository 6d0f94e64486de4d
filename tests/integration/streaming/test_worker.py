"""The streaming worker against the real Kafka and Redis: exact counts, whatever happens."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis

from analytics_pipeline.kafka_io.admin import admin_client
from analytics_pipeline.kafka_io.topics import dead_letter_topic, metrics_topic, processed_topic, raw_topic
from analytics_pipeline.realtime.layout import MetricWindow
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.timeutil import format_rfc3339, parse_rfc3339, utc_now
from tests.integration.streaming.expected import close_enough, expected_windows
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.kafka_reader import read_records, read_topic
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration

TYPES = ("page_view", "add_to_cart", "purchase", "signup")


def generated_load(count: int, minutes: int, users: int = 40, seed: int = 7) -> list[dict]:
    """Events spread over the last ``minutes`` minutes, several types, a few dozen users."""
    rng = random.Random(seed)
    now = utc_now()
    return [
        new_event(
            eventType=rng.choice(TYPES),
            userId=f"user-{rng.randrange(users)}",
            timestamp=format_rfc3339(now - timedelta(seconds=rng.uniform(0, minutes * 60))),
        )
        for _ in range(count)
    ]


def series(query_api: httpx.Client, project, metric: str, granularity: str, *, start, end) -> dict[str, dict]:
    response = query_api.get(
        f"/v1/metrics/{metric}",
        params={
            "startTime": format_rfc3339(start),
            "endTime": format_rfc3339(end),
            "granularity": granularity,
        },
        headers=project.auth,
    )
    assert response.status_code == 200, response.text
    return {point["timestamp"]: point for point in response.json()["data"]}


def assert_api_matches(query_api, project, events, stack_settings: Settings) -> None:
    """Every window of every metric, read through the API, equals the independent computation."""
    expected = expected_windows(events)
    now = utc_now()
    ranges = {"1m": timedelta(minutes=50), "1h": timedelta(hours=2), "1d": timedelta(days=2)}
    for metric in ("all_events", "active_users", *TYPES):
        for granularity, back in ranges.items():
            points = series(
                query_api, project, metric, granularity, start=now - back, end=now + timedelta(minutes=1)
            )
            for start, point in points.items():
                where = (metric, granularity, start, point)
                window = expected.get((metric, granularity, start))
                exact_users = len(window.users) if window else 0
                if metric == "active_users":
                    assert close_enough(point["value"], exact_users), where
                else:
                    assert point["value"] == (window.count if window else 0), where
                assert close_enough(point["uniqueUsers"], exact_users), where
    days = series(
        query_api, project, "all_events", "1d", start=now - ranges["1d"], end=now + timedelta(minutes=1)
    )
    assert sum(point["value"] for point in days.values()) == len(events)


def test_exact_counts_across_windows_projects_and_types(
    stream_worker, query_api, make_project, stack_settings: Settings
):
    shop, blog = make_project("shop"), make_project("blog")
    loads = {shop: generated_load(3000, minutes=40, seed=1), blog: generated_load(1500, minutes=40, seed=2)}
    with RawWriter(stack_settings.kafka_bootstrap_servers) as writer:
        for project, events in loads.items():
            writer.events(project.project_id, events)
    for project, events in loads.items():
        wait_caught_up(
            stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
        )
        assert_api_matches(query_api, project, events, stack_settings)
    assert_snapshots_match(stack_settings.kafka_bootstrap_servers, shop.project_id, loads[shop])


def assert_snapshots_match(bootstrap: str, project_id: str, events: list[dict]) -> None:
    """The last snapshot of each window on metrics.all_events is the window's final value."""
    latest = {}
    for record in read_topic(bootstrap, metrics_topic("all_events")):
        if record.value["projectId"] == project_id:
            latest[(record.value["granularity"], record.value["windowStart"])] = record.value
    expected = expected_windows(events)
    assert set(latest) == {(g, start) for (m, g, start) in expected if m == "all_events"}
    for (granularity, start), snapshot in latest.items():
        window = expected[("all_events", granularity, start)]
        assert snapshot["count"] == window.count, (granularity, start)
        assert close_enough(snapshot["uniqueUsers"], len(window.users)), (granularity, start)


def test_two_workers_in_one_group_split_the_partitions_and_count_exactly(
    start_worker, make_project, stack_settings
):
    project = make_project("split")
    group = f"stream-split-{project.project_id}"
    for _ in range(2):
        start_worker(stream_group=group)
    events = generated_load(3000, minutes=20, seed=5)
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, events)
    wait_caught_up(bootstrap, group, topic, timeout_s=240)  # a guard, not a speed check

    assigned = _partitions_by_member(bootstrap, group, topic)
    assert len(assigned) == 2, "both workers joined the group"
    assert all(assigned), f"each worker was assigned partitions of the topic: {assigned}"
    assert sorted(assigned[0] + assigned[1]) == [0, 1, 2], "each partition is consumed by exactly one"
    client = redis.Redis.from_url(stack_settings.redis_url)
    assert _counted(client, _all_events_keys(project.project_id, events, Granularity.DAY)) == len(events)


def _partitions_by_member(bootstrap: str, group: str, topic: str) -> list[list[int]]:
    """What the group coordinator assigned to each member, as standard Kafka tooling shows it
    (once the group is stable: mid-rebalance a member has no assignment yet)."""
    described: dict = {}

    def stable() -> bool:
        with admin_client(bootstrap) as admin:
            described.update(admin.describe_groups([group])[group])
        return described["group_state"] == "Stable"

    assert wait_until(stable, 30), f"group {group} did not settle: {described.get('group_state')}"
    return [
        [
            p
            for entry in m["member_assignment"]["assigned_partitions"]
            if entry["topic"] == topic
            for p in entry["partitions"]
        ]
        for m in described["members"]
    ]


def test_the_same_event_written_twice_counts_once(stream_worker, query_api, project, stack_settings):
    event = new_event(eventType="purchase", userId="buyer")
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, [event, event])  # twice in one batch
        wait_caught_up(bootstrap, stack_settings.stream_group, topic)
        writer.events(project.project_id, [event])  # and again, long after
        wait_caught_up(bootstrap, stack_settings.stream_group, topic)
    assert_api_matches(
        query_api, project, [{**event, "timestamp": _stored_timestamp(bootstrap, topic)}], stack_settings
    )
    processed = read_topic(bootstrap, processed_topic(project.project_id))
    assert [record.key for record in processed] == [event["eventId"]], "published to events.processed once"


def _stored_timestamp(bootstrap: str, topic: str) -> str:
    return read_topic(bootstrap, topic)[0].value["timestamp"]


def test_poison_goes_to_the_dead_letters_and_the_partition_moves_on(stream_worker, project, stack_settings):
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    before, after = new_event(), new_event()
    impostor = json.dumps({**new_event(), "projectId": "someone-else"}).encode()
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, [before])
        writer.bytes(project.project_id, b"k1", b"{not json")
        writer.bytes(project.project_id, b"k2", impostor)
        writer.events(project.project_id, [after])
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)

    letters = _dead_letters(bootstrap, project.project_id)
    assert sorted(letters) == [b"k1", b"k2"]
    assert letters[b"k1"]["error.stage"] == "decode"
    assert letters[b"k1"]["error.reason"] == "value is not UTF-8 JSON"
    assert letters[b"k2"]["error.stage"] == "contract"
    assert "projectId does not match the topic" in letters[b"k2"]["error.reason"]
    raw = {r.key: r for r in read_records(bootstrap, topic)}
    for key, headers in letters.items():
        assert headers["source.topic"] == topic
        assert int(headers["source.partition"]) == raw[key].partition
        assert int(headers["source.offset"]) == raw[key].offset
    processed = {record.key for record in read_topic(bootstrap, processed_topic(project.project_id))}
    assert processed == {before["eventId"], after["eventId"]}, "the events around the poison went on"


def _dead_letters(bootstrap: str, project_id: str) -> dict[bytes | None, dict[str, str]]:
    return {record.key: record.headers for record in read_records(bootstrap, dead_letter_topic(project_id))}


def test_an_event_for_an_expired_window_does_not_resurrect_it(
    stream_worker, query_api, project, stack_settings
):
    """Windows live metric_ttl_windows widths (60 here): a 1m window from 3 h ago is closed, so the
    event is not counted there (a fresh key would hold a partial count); its 1h and 1d windows,
    still open, count it."""
    late = utc_now() - timedelta(hours=3)
    event = new_event(timestamp=format_rfc3339(late))
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, [event])
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)

    client = redis.Redis.from_url(stack_settings.redis_url)
    minute = MetricWindow(
        project.project_id, "all_events", Granularity.MINUTE, window_start(late, Granularity.MINUTE)
    )
    hour = MetricWindow(
        project.project_id, "all_events", Granularity.HOUR, window_start(late, Granularity.HOUR)
    )
    assert client.exists(minute.key, minute.users_key) == 0, "no key was created for the closed window"
    assert client.hget(hour.key, "count") == b"1"
    answer = query_api.get(
        "/v1/metrics/all_events",
        params={
            "startTime": format_rfc3339(late - timedelta(minutes=1)),
            "endTime": format_rfc3339(late + timedelta(minutes=1)),
        },
        headers=project.auth,
    ).json()
    assert [p["value"] for p in answer["data"]] == [0, 0, 0]  # the minutes before, of and after it
    assert answer["retainedFrom"] > answer["data"][-1]["timestamp"], (
        "the answer says the zeros are past retention"
    )


def test_kill_9_mid_stream_then_restart_counts_exactly(stream_worker, query_api, project, stack_settings):
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    events = generated_load(30_000, minutes=30, users=500, seed=3)
    writer_done = threading.Event()

    def write() -> None:
        with RawWriter(bootstrap) as writer:
            for start in range(0, len(events), 1000):
                writer.events(project.project_id, events[start : start + 1000])
        writer_done.set()

    thread = threading.Thread(target=write)
    thread.start()
    client = redis.Redis.from_url(stack_settings.redis_url)
    hour_keys = _all_events_keys(project.project_id, events, Granularity.DAY)
    assert wait_until(lambda: _counted(client, hour_keys) > 2000, 60, 0.05), "the worker got going"
    stream_worker.process.kill()  # SIGKILL, mid-stream: batches half done, offsets not committed
    counted_at_kill = _counted(client, hour_keys)
    thread.join()
    assert writer_done.is_set()
    assert counted_at_kill < len(events), "killed before the end"
    stream_worker.ensure_running()
    wait_caught_up(bootstrap, stack_settings.stream_group, topic, timeout_s=120)
    stored = {r.key: r.value for r in read_topic(bootstrap, topic)}
    assert_api_matches(query_api, project, list(stored.values()), stack_settings)
    assert len(stored) == len(events)
    processed = {r.key for r in read_topic(bootstrap, processed_topic(project.project_id))}
    assert processed == set(stored), "every event reached events.processed: a crash cut none off"


def _all_events_keys(project_id: str, events: list[dict], granularity: Granularity) -> list[str]:
    starts = {window_start(parse_rfc3339(e["timestamp"]), granularity) for e in events}
    return [MetricWindow(project_id, "all_events", granularity, start).key for start in starts]


def _counted(client: redis.Redis, keys: list[str]) -> int:
    return sum(int(value or 0) for value in (client.hget(key, "count") for key in keys))


def test_a_foreign_key_of_the_wrong_type_dead_letters_only_the_events_it_blocks(
    stream_worker, project, stack_settings
):
    """Data in Redis that the script cannot update (here: a string where a hash belongs) fails the
    batch; the worker halves it until it finds the events concerned, retries them, dead-letters
    them, and counts the rest."""
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    now = utc_now()
    blocked_minute = window_start(now - timedelta(minutes=10), Granularity.MINUTE)
    client = redis.Redis.from_url(stack_settings.redis_url)
    blocked_key = MetricWindow(project.project_id, "signup", Granularity.MINUTE, blocked_minute).key
    client.set(blocked_key, "not a hash")
    blocked = [new_event(eventType="signup", timestamp=format_rfc3339(blocked_minute + timedelta(seconds=5)))]
    fine = [
        new_event(eventType="page_view", timestamp=format_rfc3339(now - timedelta(minutes=2)))
        for _ in range(20)
    ]
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, fine[:10] + blocked + fine[10:])
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)

    letters = _dead_letters(bootstrap, project.project_id)
    assert list(letters) == [blocked[0]["eventId"].encode()]
    (headers,) = letters.values()
    assert headers["error.stage"] == "aggregate"
    assert headers["error.reason"].startswith("WRONGTYPE")
    assert headers["error.attempts"] == str(stack_settings.stream_max_attempts)
    day = MetricWindow(project.project_id, "page_view", Granularity.DAY, window_start(now, Granularity.DAY))
    assert client.hget(day.key, "count") == b"20"


def test_a_new_project_is_consumed_without_a_restart(stream_worker, make_project, stack_settings):
    assert stream_worker.status().healthy
    fresh = make_project("fresh")  # topics created after the worker subscribed
    with RawWriter(stack_settings.kafka_bootstrap_servers) as writer:
        writer.events(fresh.project_id, [new_event() for _ in range(5)])
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(fresh.project_id), 30
    )
    day = MetricWindow(
        fresh.project_id, "all_events", Granularity.DAY, window_start(utc_now(), Granularity.DAY)
    )
    assert redis.Redis.from_url(stack_settings.redis_url).hget(day.key, "count") == b"5"


def test_a_crashed_worker_process_is_restarted_by_its_supervisor(stream_worker, project, stack_settings):
    """``analytics stream-worker`` supervises the process that consumes: when that one dies (a
    crash, or its watchdog ending a hung client call), a fresh one takes over."""
    supervisor_pid = stream_worker.process.running_pid()
    (child_pid,) = _children(supervisor_pid)
    os.kill(child_pid, signal.SIGKILL)
    assert wait_until(lambda: _children(supervisor_pid) not in ([], [child_pid]), 30), "a new worker started"
    with RawWriter(stack_settings.kafka_bootstrap_servers) as writer:
        writer.events(project.project_id, [new_event() for _ in range(10)])
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
    )
    day = MetricWindow(
        project.project_id, "all_events", Granularity.DAY, window_start(utc_now(), Granularity.DAY)
    )
    assert redis.Redis.from_url(stack_settings.redis_url).hget(day.key, "count") == b"10"
    assert stream_worker.process.running_pid() == supervisor_pid


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []
