"""Kafka killed: 503 with Retry-After within a bounded time; every 202 survives; retries land."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.sdk import AnalyticsClient
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic
from tests.support.stack import with_new_ports

pytestmark = pytest.mark.slow


@pytest.fixture
def own_kafka(stack_settings: Settings, redis_server) -> Iterator[KafkaBroker]:
    """A broker of this test's own, so killing it disturbs no other test."""
    broker = KafkaBroker(
        with_new_ports(stack_settings, "kafka").model_copy(update={"kafka_produce_timeout_s": 2.0})
    )
    broker.ensure_running()
    yield broker
    broker.stop()


def test_503_while_kafka_is_down_and_nothing_acknowledged_is_lost(own_kafka, start_ingest, metadata_store):
    settings = own_kafka.settings
    server = start_ingest(
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers, kafka_produce_timeout_s=2.0
    )
    project = provision_project(settings, metadata_store, f"k-{uuid.uuid4().hex[:8]}")
    auth = {"Authorization": f"Bearer {project.api_key}"}
    accepted: list[str] = []

    with httpx.Client(base_url=server.url, timeout=30) as client:

        def send(body: dict) -> httpx.Response:
            response = client.post("/v1/events", json=body, headers=auth)
            if response.status_code == 202:
                accepted.append(body["eventId"])
            return response

        assert all(send(new_event()).status_code == 202 for _ in range(30))

        own_kafka.process.kill()  # a crash, not a clean shutdown
        refused = [new_event() for _ in range(5)]
        for body in refused:
            started = time.monotonic()
            response = send(body)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "kafka_unavailable"
            assert int(response.headers["Retry-After"]) >= 1
            assert elapsed < 10, "bounded by the produce timeout, not hanging"
        batch = send_batch(client, auth, [new_event() for _ in range(3)])
        assert batch.status_code == 503

        own_kafka.ensure_running()  # same log directory: what was acknowledged is still there
        for body in refused:  # the client's retry, same eventId: accepted, not a 409
            last = retry_until(lambda b=body: send(b), 202)
            assert last.status_code == 202, last.text
        assert all(send(new_event()).status_code == 202 for _ in range(30))

    stored = read_topic(settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    counts = Counter(s.key for s in stored)
    assert set(accepted) == set(counts), "every 202 is in Kafka, and only those"
    assert max(counts.values()) == 1, "none twice"


def send_batch(client: httpx.Client, auth: dict, events: list[dict]) -> httpx.Response:
    return client.post("/v1/batch", json={"events": events}, headers=auth)


def retry_until(send, status: int, attempts: int = 40) -> httpx.Response:
    for _ in range(attempts):
        response = send()
        if response.status_code == status:
            break
        time.sleep(0.5)
    return response


def test_sdk_rides_out_a_kafka_restart(own_kafka, start_ingest, metadata_store: MetadataStore):
    """Events tracked while Kafka is down are delivered once it is back (SDK retries, same ids)."""
    settings = own_kafka.settings
    server = start_ingest(
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers, kafka_produce_timeout_s=2.0
    )
    project = provision_project(settings, metadata_store, f"s-{uuid.uuid4().hex[:8]}")
    own_kafka.process.kill()
    restarter = threading.Timer(1.0, own_kafka.ensure_running)
    restarter.start()
    with AnalyticsClient(project.api_key, server.url, max_retries=4, flush_interval_s=0.2) as client:
        ids = [client.track("page_view", f"user-{i % 7}", {"path": f"/p/{i}"}) for i in range(200)]
        client.flush(timeout_s=120)
        report = client.report()
    restarter.join()

    assert not report.failed, report
    assert report.delivered + report.duplicates == 200
    assert report.retries >= 1, "the outage was ridden out by retries"
    stored = read_topic(settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert {s.key for s in stored} == set(ids)
