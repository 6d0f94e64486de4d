"""`analytics replay` against the real Kafka, Redis and stream worker: a group's offsets move back,
the group reads the records again, and every aggregate is what the first pass left."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis

from analytics_pipeline.kafka_io.admin import committed_offsets, topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.operations.replay import active_members
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from tests.support.cli import analytics
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration


def aggregates(client: redis.Redis, project_id: str) -> dict[bytes, int]:
    """Every window of the project: its event count, or its distinct users (HyperLogLog)."""
    found = {}
    for key in client.scan_iter(match=f"metric:{project_id}:*", count=1000):
        found[key] = int(client.hget(key, "count")) if client.type(key) == b"hash" else client.pfcount(key)
    return found


def committed(settings: Settings, topic: str) -> dict[int, int]:
    return {
        tp.partition: offset
        for tp, offset in committed_offsets(settings.kafka_bootstrap_servers, settings.stream_group).items()
        if tp.topic == topic
    }


def test_a_replayed_stream_group_leaves_every_aggregate_as_the_first_pass_did(
    stream_worker, project, stack_settings
):
    bootstrap, pid, topic = (
        stack_settings.kafka_bootstrap_servers,
        project.project_id,
        raw_topic(project.project_id),
    )
    group = stack_settings.stream_group
    now = utc_now()
    events = [
        new_event(
            eventType=("page_view", "purchase")[n % 2],
            userId=f"u{n % 17}",
            timestamp=format_rfc3339(now - timedelta(minutes=n % 30, seconds=n % 60)),
        )
        for n in range(300)
    ]
    with RawWriter(bootstrap) as writer:
        writer.events(pid, events)
    wait_caught_up(bootstrap, group, topic)
    client = redis.Redis.from_url(stack_settings.redis_url)
    first_pass = aggregates(client, pid)
    assert first_pass, "the first pass counted"
    ends = {o.partition: o.latest for o in topic_offsets(bootstrap, topic)}

    refused = analytics(stack_settings, "replay", "--group", group, "--project", pid, "--to-earliest")
    assert refused.returncode == 2
    assert "active member" in refused.stderr
    both = analytics(
        stack_settings, "replay", "--group", group, "--project", pid, "--to-earliest", "--shift", "-5"
    )
    assert both.returncode == 2
    assert "exactly one of" in both.stderr

    stream_worker.stop()
    try:
        assert wait_until(lambda: not active_members(bootstrap, group), 60, 0.5), "the group emptied"
        dry = analytics(
            stack_settings,
            "replay",
            "--group",
            group,
            "--project",
            pid,
            "--shift",
            "-40",
            "--dry-run",
            "--json",
        )
        assert dry.returncode == 0, dry.stderr
        planned = {p["partition"]: (p["before"], p["after"]) for p in json.loads(dry.stdout)["partitions"]}
        assert planned == {p: (end, max(end - 40, 0)) for p, end in ends.items()}
        assert committed(stack_settings, topic) == ends, "a dry run moves nothing"
        future = format_rfc3339(utc_now() + timedelta(hours=1))
        later = json.loads(
            analytics(
                stack_settings,
                "replay",
                "--group",
                group,
                "--project",
                pid,
                "--to-datetime",
                future,
                "--dry-run",
                "--json",
            ).stdout
        )
        assert {p["partition"]: p["after"] for p in later["partitions"]} == ends, (
            "past the last record: the end"
        )

        moved = analytics(stack_settings, "replay", "--group", group, "--project", pid, "--to-earliest")
        assert moved.returncode == 0, moved.stderr
        assert f"will read {sum(ends.values()):,} record(s)" in moved.stderr
        assert committed(stack_settings, topic) == dict.fromkeys(ends, 0)
    finally:
        stream_worker.ensure_running()
    wait_caught_up(bootstrap, group, topic, timeout_s=120)
    after = aggregates(client, pid)  # windows live 60 widths in this session: a 1 m one may expire meanwhile
    assert set(after) <= set(first_pass)
    assert len(after) >= len(first_pass) - 10
    assert after == {key: first_pass[key] for key in after}, "the replay counted nothing twice"
