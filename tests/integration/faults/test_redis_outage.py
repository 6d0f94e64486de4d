"""Redis down or hung: the service fails open behind its breaker and loses nothing."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.slow


def breaker_state(client: httpx.Client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("analytics_redis_breaker_state "):
            return float(line.split()[1])
    raise AssertionError("breaker gauge missing")


def metric(client: httpx.Client, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_redis_killed_fail_open_then_dedup_again_when_back(own_redis, start_ingest, project, stack_settings):
    # One worker: one breaker, its gauge read at each scrape (several workers show their worst,
    # written once a second).
    server = start_ingest(
        redis_url=own_redis.settings.redis_url, breaker_reset_timeout_s=2.0, ingest_workers=1
    )
    before = new_event()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/v1/events", json=before, headers=project.auth).status_code == 202
        own_redis.process.kill()

        during = [new_event() for _ in range(20)]
        codes = [client.post("/v1/events", json=e, headers=project.auth).status_code for e in during]
        assert codes == [202] * 20, "fail open: accepted without deduplication"
        assert breaker_state(client) == 2.0, "the breaker opened"
        assert metric(client, "analytics_dedup_skipped_events_total") == 20

        own_redis.ensure_running()  # same data directory: the AOF brings the dedup keys back
        time.sleep(2.5)  # past the half-open delay
        retried = client.post("/v1/events", json=before, headers=project.auth)
        assert retried.status_code == 409, "a probe closed the breaker and the old key survived"
        assert breaker_state(client) == 0.0

    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert sorted(s.key for s in stored) == sorted([before["eventId"], *(e["eventId"] for e in during)])


def test_hung_redis_does_not_hold_requests(own_redis, start_ingest, project, stack_settings):
    """SIGSTOP: connections open, nothing answers. The 1 s timeouts bound the first requests and
    the open breaker then skips Redis altogether."""
    server = start_ingest(redis_url=own_redis.settings.redis_url, ingest_workers=1)  # one breaker
    pid = own_redis.process.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            durations, accepted = [], []
            for _ in range(12):
                body = new_event()
                started = time.monotonic()
                response = client.post("/v1/events", json=body, headers=project.auth)
                durations.append(time.monotonic() - started)
                assert response.status_code == 202
                accepted.append(body["eventId"])
            assert breaker_state(client) == 2.0
    finally:
        os.kill(pid, signal.SIGCONT)
    # Without timeouts a stopped Redis holds a request forever; each call here gives up after 1 s.
    assert max(durations) < 6.0, durations
    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert sorted(s.key for s in stored) == sorted(accepted)
