"""An accepted event is in Kafka: right topic, key = eventId, murmur2 partition, enriched value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafka.partitioner.default import murmur2

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import parse_rfc3339
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic


def test_202_only_with_the_event_in_its_topic_keyed_by_event_id(api, project, stack_settings):
    sent = [new_event(properties={"productId": "prod_456", "amount": 29.99}) for _ in range(40)]
    for body in sent:
        response = api.post("/v1/events", json=body, headers=project.auth)
        assert response.status_code == 202, response.text
        assert response.json() == {"eventId": body["eventId"], "status": "accepted"}

    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))

    assert len(stored) == len(sent)
    assert sorted(e.key for e in stored) == sorted(b["eventId"] for b in sent)
    partitions = stack_settings.kafka_topic_partitions
    for record in stored:
        # Kafka's default partitioner for keyed records (Java client and broker agree on it)
        expected = (murmur2(record.key.encode()) & 0x7FFFFFFF) % partitions
        assert record.partition == expected, f"{record.key} not in its murmur2 partition"
    assert len({e.partition for e in stored}) > 1, "40 random ids should spread over partitions"


def test_value_is_the_event_plus_project_and_receive_time(api, project, stack_settings):
    body = new_event(properties={"productId": "p1", "amount": 10.5}, context={"app": "ios"})
    before = datetime.now(UTC)
    assert api.post("/v1/events", json=body, headers=project.auth).status_code == 202

    (stored,) = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    value = stored.value
    assert value["projectId"] == project.project_id
    assert {k: value[k] for k in ("eventId", "eventType", "userId", "properties", "context")} == {
        k: body[k] for k in ("eventId", "eventType", "userId", "properties", "context")
    }
    received_at = parse_rfc3339(value["receivedAt"])
    assert before - timedelta(seconds=1) <= received_at <= datetime.now(UTC)
    assert value["timestamp"] == value["receivedAt"], "a missing timestamp takes the receive time"
    assert "originalTimestamp" not in value


def test_sent_at_corrects_the_client_clock_skew(api, project, stack_settings):
    # The device clock is 2 hours behind: it says the event happened at 10:00 and was sent at 10:05.
    skew = timedelta(hours=2)
    device_now = datetime.now(UTC) - skew
    happened = device_now - timedelta(minutes=5)
    body = new_event(
        timestamp=happened.isoformat().replace("+00:00", "Z"),
        sentAt=device_now.isoformat().replace("+00:00", "Z"),
    )
    assert api.post("/v1/events", json=body, headers=project.auth).status_code == 202

    (stored,) = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    corrected = parse_rfc3339(stored.value["timestamp"])
    received = parse_rfc3339(stored.value["receivedAt"])
    assert parse_rfc3339(stored.value["originalTimestamp"]) == happened.replace(
        microsecond=happened.microsecond // 1000 * 1000
    )
    # timestamp = original + (receivedAt - sentAt): five minutes before the server's receive time
    assert abs((received - corrected) - timedelta(minutes=5)) < timedelta(milliseconds=5)


def test_batch_sent_at_applies_to_events_without_their_own(api, project, stack_settings):
    device_now = datetime.now(UTC) - timedelta(days=1)
    events = [new_event(timestamp=(device_now - timedelta(minutes=m)).isoformat()) for m in (1, 2)]
    body = {"events": events, "sentAt": device_now.isoformat()}
    response = api.post("/v1/batch", json=body, headers=project.auth)
    assert response.status_code == 202, response.text
    assert sorted(response.json()["accepted"]) == sorted(e["eventId"] for e in events)

    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert sorted(r.key for r in stored) == sorted(e["eventId"] for e in events), "both, once each"
    for record in stored:
        lag = parse_rfc3339(record.value["receivedAt"]) - parse_rfc3339(record.value["timestamp"])
        assert timedelta(seconds=50) < lag < timedelta(minutes=3), "corrected to minutes before receipt"
