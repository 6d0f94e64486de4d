"""POST /v1/batch: one 202 with an outcome per event; 400 only for a broken envelope."""

from __future__ import annotations

import json

import httpx

from analytics_pipeline.kafka_io.topics import raw_topic
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic


def test_mixed_batch_reports_each_event(api, project, stack_settings):
    earlier = new_event()
    assert api.post("/v1/events", json=earlier, headers=project.auth).status_code == 202
    good = [new_event() for _ in range(3)]
    batch = [good[0], {"eventId": "bad id", "eventType": "page_view"}, earlier, good[1], 17, good[2], good[0]]

    response = api.post("/v1/batch", json={"events": batch}, headers=project.auth)

    assert response.status_code == 202, response.text
    body = response.json()
    assert sorted(body["accepted"]) == sorted(e["eventId"] for e in good)
    assert sorted(body["duplicates"]) == sorted([earlier["eventId"], good[0]["eventId"]])
    rejected = {r["index"]: r for r in body["rejected"]}
    assert set(rejected) == {1, 4}
    assert rejected[1]["eventId"] == "bad id"
    assert {e["field"] for e in rejected[1]["errors"]} == {"eventId", "userId"}
    assert rejected[4]["eventId"] is None
    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert sorted(s.key for s in stored) == sorted([earlier["eventId"], *(e["eventId"] for e in good)])


def test_2500_events_in_one_batch(api, project, stack_settings):
    events = [new_event(properties={"i": i}) for i in range(2500)]
    response = api.post("/v1/batch", json={"events": events}, headers=project.auth)
    assert response.status_code == 202, response.text
    assert len(response.json()["accepted"]) == 2500
    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert len({s.key for s in stored}) == 2500 == len(stored)


def envelope_error(api: httpx.Client, project, payload) -> dict[str, str]:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = api.post("/v1/batch", content=content, headers=project.auth)
    assert response.status_code == 400, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_envelope_errors_are_400_and_name_the_field(api, project):
    assert "events" in envelope_error(api, project, {})
    assert "events" in envelope_error(api, project, {"events": []})
    assert "events" in envelope_error(api, project, {"events": {"a": 1}})
    assert "body" in envelope_error(api, project, [new_event()])
    assert "body" in envelope_error(api, project, b"[")
    assert "sentAt" in envelope_error(api, project, {"events": [new_event()], "sentAt": "noon"})
    assert "extra" in envelope_error(api, project, {"events": [new_event()], "extra": 1})
    too_many = envelope_error(api, project, {"events": [new_event() for _ in range(2501)]})
    assert "2500" in too_many["events"]


def test_batch_over_500_kb_is_413(api, project):
    events = [new_event(properties={"blob": "x" * 10_000}) for _ in range(60)]
    response = api.post("/v1/batch", json={"events": events}, headers=project.auth)
    assert response.status_code == 413


def test_batch_needs_a_key(api):
    assert api.post("/v1/batch", json={"events": [new_event()]}).status_code == 401
