"""The Kafka record of an accepted event: topic, key and the UTF-8 JSON value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analytics_pipeline.events.envelope import TimeWindow, ValidEvent, validate_event
from analytics_pipeline.events.record import UnencodableEvent, kafka_record

RECEIVED_AT = datetime(2026, 11, 26, 12, 0, 0, 123_456, tzinfo=UTC)
WINDOW = TimeWindow(max_future=timedelta(hours=1), max_age=timedelta(days=30))


def valid_event(**fields: Any) -> ValidEvent:
    raw = {"eventId": "evt-42", "eventType": "purchase", "userId": "user-7", **fields}
    valid, errors = validate_event(raw, received_at=RECEIVED_AT, window=WINDOW)
    assert errors == []
    assert valid is not None
    return valid


def record_value(valid: ValidEvent, project_id: str = "shop") -> dict[str, Any]:
    return json.loads(kafka_record(valid, project_id, RECEIVED_AT).value.decode("utf-8"))


class TestKafkaRecord:
    def test_the_schema_version_accepted_under_is_stamped_only_when_there_was_one(self) -> None:
        stamped = kafka_record(valid_event(), "shop", RECEIVED_AT, schema_version=2).value
        assert json.loads(stamped)["schemaVersion"] == 2
        assert "schemaVersion" not in record_value(valid_event())

    def test_topic_is_the_projects_raw_topic(self) -> None:
        assert kafka_record(valid_event(), "shop-eu", RECEIVED_AT).topic == "events.shop-eu"

    def test_key_is_the_event_id_as_bytes(self) -> None:
        assert kafka_record(valid_event(eventId="id:1.a_b"), "shop", RECEIVED_AT).key == b"id:1.a_b"

    def test_value_holds_the_event_and_what_the_service_adds(self) -> None:
        value = record_value(valid_event(timestamp="2026-11-26T13:59:00+02:00", properties={"amount": 9.5}))
        assert value == {
            "eventId": "evt-42",
            "eventType": "purchase",
            "userId": "user-7",
            "timestamp": "2026-11-26T11:59:00.000Z",
            "properties": {"amount": 9.5},
            "projectId": "shop",
            "receivedAt": "2026-11-26T12:00:00.123Z",
        }

    def test_timestamp_defaults_to_the_receive_time_in_canonical_form(self) -> None:
        value = record_value(valid_event())
        assert value["timestamp"] == value["receivedAt"] == "2026-11-26T12:00:00.123Z"

    def test_original_timestamp_and_sent_at_appear_when_the_skew_was_corrected(self) -> None:
        value = record_value(
            valid_event(timestamp="2026-11-26T10:00:00Z", sentAt="2026-11-26T10:00:05+00:00")
        )
        assert value["timestamp"] == "2026-11-26T11:59:55.123Z"
        assert value["originalTimestamp"] == "2026-11-26T10:00:00.000Z"
        assert value["sentAt"] == "2026-11-26T10:00:05.000Z"

    def test_original_timestamp_and_sent_at_are_absent_without_sent_at(self) -> None:
        value = record_value(valid_event(timestamp="2026-11-26T10:00:00Z"))
        assert "originalTimestamp" not in value
        assert "sentAt" not in value

    def test_context_appears_only_when_sent(self) -> None:
        assert "context" not in record_value(valid_event())
        assert record_value(valid_event(context={"ip": "10.0.0.1"}))["context"] == {"ip": "10.0.0.1"}

    def test_value_is_compact_utf8_not_ascii_escaped(self) -> None:
        raw = kafka_record(valid_event(properties={"city": "Zürich"}), "shop", RECEIVED_AT).value
        assert "Zürich".encode() in raw
        assert b"\\u00fc" not in raw
        assert b", " not in raw
        assert b": " not in raw


class TestUnencodableEvent:
    @pytest.mark.parametrize(
        "fields",
        [
            {"properties": {"\ud800": 1}},
            {"properties": {"name": "a\udfffb"}},
            {"properties": {"list": ["ok", {"deep": "\ud83d"}]}},
            {"context": {"page": "\udc00"}},
        ],
    )
    def test_an_unpaired_surrogate_is_refused_as_a_body_error(self, fields: dict[str, Any]) -> None:
        with pytest.raises(UnencodableEvent) as caught:
            kafka_record(valid_event(**fields), "shop", RECEIVED_AT)
        assert caught.value.error.field == "body"
        assert "surrogate" in caught.value.error.message
        assert isinstance(caught.value, ValueError)

    def test_a_properly_paired_surrogate_pair_is_fine(self) -> None:
        # "\ud83d\ude00" is how JSON escapes 😀; Python's parser joins the pair into one character.
        emoji = json.loads('"\\ud83d\\ude00"')
        assert record_value(valid_event(properties={"mood": emoji}))["properties"] == {"mood": "😀"}
