"""Health, readiness, metrics, OpenAPI; and what survives a restart of the service."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.stack.api_servers import IngestServer
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic


def test_health_and_readiness(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"kafka": "ok", "redis": "ok"}


def test_readiness_names_the_missing_dependency(start_ingest):
    server = start_ingest(kafka_bootstrap_servers="127.0.0.1:1", redis_url="redis://127.0.0.1:1/0")
    ready = httpx.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json() == {"kafka": "unreachable", "redis": "unreachable"}


def test_metrics_count_requests_events_and_produce_latency(api, project):
    body = new_event()
    api.post("/v1/events", json=body, headers=project.auth)
    api.post("/v1/events", json=body, headers=project.auth)
    text = api.get("/metrics").text
    assert f'analytics_events_total{{outcome="accepted",project="{project.project_id}"}} 1.0' in text
    assert f'analytics_events_total{{outcome="duplicate",project="{project.project_id}"}} 1.0' in text
    assert 'analytics_http_requests_total{route="/v1/events",status="409"}' in text
    assert "analytics_kafka_produce_latency_seconds_bucket" in text
    assert "analytics_redis_breaker_state 0.0" in text
    assert "analytics_kafka_producer_replacements 0.0" in text


def test_openapi_documents_both_endpoints_and_their_answers(api):
    spec = api.get("/openapi.json").json()
    events = spec["paths"]["/v1/events"]["post"]
    assert set(events["responses"]) >= {"202", "400", "401", "409", "413", "429", "503"}
    assert "eventId" in events["requestBody"]["content"]["application/json"]["schema"]["required"]
    assert set(spec["paths"]["/v1/batch"]["post"]["responses"]) >= {"202", "400", "401", "413", "429", "503"}


def test_duplicate_is_still_refused_after_the_service_restarted(start_ingest, project):
    server: IngestServer = start_ingest()
    body = new_event()
    assert httpx.post(f"{server.url}/v1/events", json=body, headers=project.auth).status_code == 202
    server.stop()
    assert not server.healthy()
    server.ensure_running()
    assert httpx.post(f"{server.url}/v1/events", json=body, headers=project.auth).status_code == 409


def test_killed_service_loses_no_acknowledged_event(start_ingest, project, stack_settings):
    """SIGKILL mid-load: every 202 is in Kafka, and retried requests land.

    An event whose request died with the process may already be in Kafka; its retry can land it a
    second time (at-least-once), which the downstream consumers remove by eventId. Events that
    were answered 202 are never written twice.
    """
    server: IngestServer = start_ingest()
    accepted: list[str] = []
    unanswered: list[dict] = []
    enough_accepted = threading.Event()
    events = [new_event() for _ in range(400)]

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            for body in events:
                try:
                    response = client.post("/v1/events", json=body, headers=project.auth)
                except httpx.HTTPError:
                    unanswered.append(body)
                    continue
                if response.status_code == 202:
                    accepted.append(body["eventId"])
                    if len(accepted) >= 100:
                        enough_accepted.set()
                else:
                    unanswered.append(body)

    sender = threading.Thread(target=send)
    sender.start()
    assert enough_accepted.wait(60)
    server.process.kill()
    sender.join()
    assert unanswered, "the kill should have cut some requests off"
    server.ensure_running()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for body in unanswered:  # what the SDK does: retry with the same eventId until answered
            assert retry_until_answered(client, body, project.auth) in (202, 409)

    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    keys = Counter(s.key for s in stored)
    assert set(accepted) <= set(keys)
    assert set(keys) == {e["eventId"] for e in events}, "every event landed"
    assert all(keys[event_id] == 1 for event_id in accepted), "an event answered 202 is stored once"


def retry_until_answered(client: httpx.Client, body: dict, auth: dict, attempts: int = 30) -> int:
    for _ in range(attempts):
        response = client.post("/v1/events", json=body, headers=auth)
        if response.status_code != 503:
            return response.status_code
        time.sleep(float(response.headers.get("Retry-After", "1")))
    raise AssertionError(f"{body['eventId']} still refused after {attempts} attempts")
