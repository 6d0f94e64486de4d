"""Redis or Kafka killed under a busy streaming worker: once both are back, every event is
counted exactly once, none lost, none twice."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
import redis

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.realtime.layout import MetricWindow
from analytics_pipeline.realtime.windows import Granularity
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.timeutil import parse_rfc3339
from tests.integration.streaming.expected import close_enough, expected_windows
from tests.integration.streaming.test_worker import generated_load
from tests.support.consumer_group import wait_caught_up
from tests.support.kafka_reader import read_topic
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.slow

EVENTS = 20_000


def assert_redis_matches(client: redis.Redis, project_id: str, events: list[dict]) -> None:
    """Every window the events touch holds exactly their count, and nothing else was counted."""
    for (metric, granularity, start), window in expected_windows(events).items():
        stored = MetricWindow(project_id, metric, Granularity(granularity), parse_rfc3339(start))
        if stored.counts_events:
            assert int(client.hget(stored.key, "count") or 0) == window.count, (metric, granularity, start)
        assert close_enough(client.pfcount(stored.users_key), len(window.users)), (metric, granularity, start)
    days = client.keys(f"metric:{project_id}:all_events:1d:*")
    assert sum(int(client.hget(key, "count") or 0) for key in days if not key.endswith(b":users")) == len(
        events
    )


def day_total(client: redis.Redis, project_id: str) -> int:
    try:
        keys = [k for k in client.keys(f"metric:{project_id}:all_events:1d:*") if not k.endswith(b":users")]
        return sum(int(client.hget(key, "count") or 0) for key in keys)
    except redis.RedisError:
        return -1


def write_in_background(bootstrap: str, project_id: str, events: list[dict]) -> threading.Thread:
    def write() -> None:
        with RawWriter(bootstrap) as writer:
            for start in range(0, len(events), 1000):
                writer.events(project_id, events[start : start + 1000])

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_redis_killed_mid_stream(own_redis, start_worker, make_project, stack_settings):
    project = make_project("redis-fault")
    worker = start_worker(redis_url=own_redis.settings.redis_url)
    client = redis.Redis.from_url(own_redis.settings.redis_url)
    events = generated_load(EVENTS, minutes=30, users=300, seed=11)
    writer = write_in_background(stack_settings.kafka_bootstrap_servers, project.project_id, events)

    assert wait_until(lambda: day_total(client, project.project_id) > 1000, 60, 0.05)
    own_redis.process.kill()  # SIGKILL: whatever Redis acknowledged is in its AOF
    time.sleep(3)  # the worker keeps failing its batch, commits nothing
    own_redis.ensure_running()
    writer.join()
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers,
        worker.settings.stream_group,
        raw_topic(project.project_id),
        120,
    )

    stored = [
        r.value for r in read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    ]
    assert len(stored) == EVENTS
    assert_redis_matches(client, project.project_id, stored)
    assert 'analytics_stream_batch_retries_total{cause="redis"}' in _metrics(worker)


def test_kafka_killed_mid_stream(own_kafka, start_worker, metadata_store, stack_settings):
    settings = own_kafka.settings
    project_id = provision_project(settings, metadata_store, f"kafka-fault-{uuid.uuid4().hex[:6]}").project_id
    worker = start_worker(kafka_bootstrap_servers=settings.kafka_bootstrap_servers)
    client = redis.Redis.from_url(stack_settings.redis_url)
    events = generated_load(EVENTS, minutes=30, users=300, seed=12)
    with RawWriter(settings.kafka_bootstrap_servers) as writer:
        for start in range(0, len(events), 1000):
            writer.events(project_id, events[start : start + 1000])

    assert wait_until(lambda: day_total(client, project_id) > 1000, 60, 0.02)
    own_kafka.process.kill()  # outputs and commits fail mid-batch
    time.sleep(3)
    own_kafka.ensure_running()
    wait_caught_up(settings.kafka_bootstrap_servers, worker.settings.stream_group, raw_topic(project_id), 180)

    stored = [r.value for r in read_topic(settings.kafka_bootstrap_servers, raw_topic(project_id))]
    assert len(stored) == EVENTS
    assert_redis_matches(client, project_id, stored)


def _metrics(worker) -> str:
    return httpx.get(f"http://{worker.host}:{worker.port}/metrics", timeout=5).text
