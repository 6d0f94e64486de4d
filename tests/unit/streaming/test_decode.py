"""decode(): good raw records become events; poison becomes dead letters, by stage, with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.raw_record import RawEvent
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.streaming.outputs import SourceRecord
from analytics_pipeline.streaming.processor import decode

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = TimeWindow(max_future=NOW - NOW, max_age=NOW - datetime(2026, 10, 1, tzinfo=UTC))


def service_record(event_id: str = "e1", offset: int = 0, **fields) -> SourceRecord:
    event = {"eventId": event_id, "eventType": "page_view", "userId": "u1", **fields}
    valid, errors = validate_event(event, received_at=NOW, window=WINDOW)
    assert not errors
    record = kafka_record(valid, "shop", NOW)
    return SourceRecord(record.topic, 0, offset, 1_700_000_000_000, record.key, record.value)


def tampered(key: bytes | None = b"e1", **changes) -> SourceRecord:
    good = service_record()
    value = json.loads(good.value)
    value.update(changes)
    return SourceRecord(good.topic, 0, 9, good.timestamp_ms, key, json.dumps(value).encode())


def raw_bytes(value: bytes | None) -> SourceRecord:
    return SourceRecord("events.shop", 0, 9, 1_700_000_000_000, b"e1", value)


def test_good_records_pass_as_events_with_their_source():
    records = [service_record("e1", 0, timestamp="2026-11-26T13:30:00+02:00"), service_record("e2", 1)]
    items, letters = decode(records)
    assert letters == []
    assert [item.source for item in items] == records
    first = items[0].event
    assert isinstance(first, RawEvent)
    assert (first.project_id, first.event_id, first.event_type, first.user_id) == (
        "shop",
        "e1",
        "page_view",
        "u1",
    )
    assert first.timestamp == datetime(2026, 11, 26, 11, 30, tzinfo=UTC)
    assert first.value == json.loads(records[0].value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xff\xfe", "value is not UTF-8 JSON"),
        (b"{not json", "value is not UTF-8 JSON"),
        (None, "value is not UTF-8 JSON"),
        (b"", "value is not UTF-8 JSON"),
        (b"[1, 2]", "value is not a JSON object"),
        (b'"text"', "value is not a JSON object"),
    ],
)
def test_values_that_are_not_json_objects_die_at_the_decode_stage(value, reason):
    record = raw_bytes(value)
    items, letters = decode([record])
    assert items == []
    assert len(letters) == 1
    assert (letters[0].record, letters[0].stage, letters[0].reason) == (record, "decode", reason)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (tampered(key=b"other"), "key is not the eventId"),
        (tampered(key=None), "key is not the eventId"),
        (tampered(projectId="blog"), "projectId does not match the topic"),
        (tampered(eventType="Page-View"), "eventType does not match ^[a-z][a-z0-9_]{0,63}$"),
        (tampered(userId=""), "userId is not a non-empty string"),
        (tampered(timestamp="yesterday"), "timestamp is not RFC 3339"),
    ],
)
def test_contract_breaches_die_at_the_contract_stage_with_the_reason(record, reason):
    items, letters = decode([record])
    assert items == []
    assert len(letters) == 1
    assert (letters[0].stage, letters[0].reason) == ("contract", reason)
    assert letters[0].record is record


def test_every_breach_of_a_record_is_in_the_reason():
    items, letters = decode([tampered(key=b"other", userId=7)])
    assert items == []
    assert letters[0].reason == "key is not the eventId; userId is not a non-empty string"


def test_a_mixed_batch_keeps_the_good_and_letters_the_rest_in_order():
    good_1, good_2 = service_record("e1", 0), service_record("e2", 3)
    not_json, breach = raw_bytes(b"nope"), tampered(projectId="blog")
    items, letters = decode([good_1, not_json, breach, good_2])
    assert [item.source for item in items] == [good_1, good_2]
    assert [item.event.event_id for item in items] == ["e1", "e2"]
    assert [(letter.record, letter.stage) for letter in letters] == [
        (not_json, "decode"),
        (breach, "contract"),
    ]
    assert all(letter.attempts == 1 for letter in letters)
