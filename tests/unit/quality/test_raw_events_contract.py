"""The raw-record contract: what the ingestion service writes passes, anything else is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.kafka_io.admin import TopicRecord
from quality.raw_events import check_records, record_problems

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = TimeWindow(max_future=NOW - NOW, max_age=NOW - datetime(2026, 10, 1, tzinfo=UTC))


def service_record(project_id: str = "shop", event_id: str = "e1", offset: int = 0) -> TopicRecord:
    valid, errors = validate_event(
        {"eventId": event_id, "eventType": "page_view", "userId": "u"}, received_at=NOW, window=WINDOW
    )
    assert not errors
    record = kafka_record(valid, project_id, NOW)
    return TopicRecord(record.topic, 0, offset, record.key, record.value)


def tampered(**changes) -> TopicRecord:
    good = service_record()
    value = json.loads(good.value)
    value.update(changes)
    for name, replacement in changes.items():
        if replacement is None:
            del value[name]
    return TopicRecord(good.topic, 0, 1, good.key, json.dumps(value).encode())


def test_what_the_service_writes_honours_the_contract():
    assert record_problems(service_record()) == []


def test_each_breach_is_named():
    assert record_problems(tampered(eventId="other")) == ["key is not the eventId"]
    assert record_problems(tampered(projectId="elsewhere")) == ["projectId does not match the topic"]
    assert record_problems(tampered(timestamp="yesterday")) == ["timestamp is not RFC 3339"]
    assert record_problems(tampered(userId=None)) == ["userId missing"]
    assert record_problems(tampered(properties=[1])) == ["properties is not an object"]


def test_values_that_are_not_json_objects():
    good = service_record()
    assert record_problems(TopicRecord(good.topic, 0, 0, good.key, b"\xff")) == ["value is not UTF-8 JSON"]
    assert record_problems(TopicRecord(good.topic, 0, 0, good.key, b"[1]")) == ["value is not a JSON object"]
    assert record_problems(TopicRecord(good.topic, 0, 0, good.key, None)) == ["value is not UTF-8 JSON"]


def test_the_report_counts_records_and_keeps_a_few_examples():
    records = [service_record(event_id=f"e{i}", offset=i) for i in range(5)]
    records += [tampered(eventId="x"), tampered(projectId="y")]
    report = check_records(records, max_examples=1)
    assert (report.checked, report.violating, report.passed) == (7, 2, False)
    assert report.problems == {"key is not the eventId": 1, "projectId does not match the topic": 1}
    assert report.examples == ["events.shop/0@1: key is not the eventId"]
    assert report.violating_by_topic == {"events.shop": 2}
    assert check_records([]).passed
