"""parse_raw_record: the one reading of a raw record, with each breach of the contract named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.raw_record import RawEvent, parse_raw_record
from analytics_pipeline.events.record import kafka_record

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = TimeWindow(max_future=timedelta(hours=1), max_age=timedelta(days=30))
EVENT_ID_RULE = "eventId does not match ^[A-Za-z0-9._:-]{1,128}$"
EVENT_TYPE_RULE = "eventType does not match ^[a-z][a-z0-9_]{0,63}$"


def service_value(**fields) -> dict:
    event = {"eventId": "evt-1", "eventType": "add_to_cart", "userId": "user-7", **fields}
    valid, errors = validate_event(event, received_at=NOW, window=WINDOW)
    assert not errors
    return json.loads(kafka_record(valid, "shop", NOW).value)


def problems(value: dict, key: bytes | None = b"evt-1", topic: str = "events.shop") -> list[str]:
    event, found = parse_raw_record(topic, key, json.dumps(value).encode())
    assert event is None
    return found


def with_changes(**changes) -> dict:
    value = service_value()
    value.update(changes)
    return value


def without(name: str) -> dict:
    value = service_value()
    del value[name]
    return value


def test_a_service_record_parses_into_an_event_with_a_utc_timestamp():
    value = service_value(timestamp="2026-11-26T13:15:30.250+02:00", properties={"amount": 3})
    event, found = parse_raw_record("events.shop", b"evt-1", json.dumps(value).encode())
    assert found == []
    assert event == RawEvent(
        project_id="shop",
        event_id="evt-1",
        event_type="add_to_cart",
        user_id="user-7",
        timestamp=datetime(2026, 11, 26, 11, 15, 30, 250_000, tzinfo=UTC),
        value=value,
        received_at=NOW,
    )
    assert event.timestamp.utcoffset() == timedelta(0)


def test_the_project_comes_from_the_topic():
    value = service_value()
    value["projectId"] = "shop-eu-2"
    event, found = parse_raw_record("events.shop-eu-2", b"evt-1", json.dumps(value).encode())
    assert found == []
    assert event.project_id == "shop-eu-2"


@pytest.mark.parametrize("name", ["eventId", "eventType", "userId", "timestamp", "receivedAt", "properties"])
def test_a_missing_field_is_named(name):
    found = problems(without(name))
    assert f"{name} missing" in found
    if name != "eventId":
        assert found == [f"{name} missing"]


def test_a_missing_project_id_is_named():
    assert problems(without("projectId")) == ["projectId missing"]


@pytest.mark.parametrize("event_id", [42, None, ["evt-1"], "", "has space", "x" * 129])
def test_an_event_id_of_the_wrong_type_or_shape_is_named(event_id):
    found = problems(with_changes(eventId=event_id))
    assert EVENT_ID_RULE in found
    assert "key is not the eventId" in found


@pytest.mark.parametrize("event_type", [7, None, {"a": 1}, "", "AddToCart", "add-to-cart", "a" * 65])
def test_an_event_type_of_the_wrong_type_or_shape_is_named(event_type):
    assert problems(with_changes(eventType=event_type)) == [EVENT_TYPE_RULE]


@pytest.mark.parametrize("user_id", [7, None, "", ["u"], {"id": "u"}])
def test_a_user_id_that_is_not_a_non_empty_string_is_named(user_id):
    assert problems(with_changes(userId=user_id)) == ["userId is not a non-empty string"]


@pytest.mark.parametrize("name", ["timestamp", "receivedAt"])
@pytest.mark.parametrize("bad", ["yesterday", 1_764_158_400, None, "2026-11-26T12:00:00"])
def test_a_time_that_is_not_rfc_3339_is_named(name, bad):
    assert problems(with_changes(**{name: bad})) == [f"{name} is not RFC 3339"]


def test_properties_must_be_an_object():
    assert problems(with_changes(properties="x")) == ["properties is not an object"]


def test_the_key_must_be_the_event_id():
    assert problems(service_value(), key=b"evt-2") == ["key is not the eventId"]
    assert problems(service_value(), key=None) == ["key is not the eventId"]


def test_every_breach_of_one_record_is_named():
    value = with_changes(eventType="Bad", userId="", projectId="blog")
    del value["properties"]
    assert problems(value, key=b"zzz") == [
        "properties missing",
        "key is not the eventId",
        "projectId does not match the topic",
        EVENT_TYPE_RULE,
        "userId is not a non-empty string",
    ]


@pytest.mark.parametrize("topic", ["events.processed.shop", "events.dlq.shop", "metrics.page_view", "shop"])
def test_a_record_outside_a_raw_topic_is_refused(topic):
    assert problems(service_value(), topic=topic) != []


def test_a_non_raw_topic_is_named_when_nothing_else_is_wrong():
    assert problems(with_changes(projectId=None), topic="events.processed.shop") == [
        "topic is not a raw topic"
    ]


def test_a_processed_topic_is_named_as_not_raw():
    assert "topic is not a raw topic" in problems(service_value(), topic="events.processed.shop")


def test_an_event_type_with_a_trailing_newline_is_named():
    value = with_changes(eventId="evt-1\n", eventType="add_to_cart\n")
    found = problems(value, key=b"evt-1\n")
    assert found == [EVENT_ID_RULE, EVENT_TYPE_RULE]


@pytest.mark.parametrize("value", [b"\xff", b"{", b"", None])
def test_a_value_that_is_not_json_is_named(value):
    assert parse_raw_record("events.shop", b"evt-1", value) == (None, ["value is not UTF-8 JSON"])


@pytest.mark.parametrize("value", [b"[]", b"1", b"null", b'"evt-1"'])
def test_a_value_that_is_not_an_object_is_named(value):
    assert parse_raw_record("events.shop", b"evt-1", value) == (None, ["value is not a JSON object"])


def test_the_schema_version_an_event_was_accepted_under_is_read():
    valid, errors = validate_event(
        {"eventId": "evt-1", "eventType": "add_to_cart", "userId": "u"}, received_at=NOW, window=WINDOW
    )
    assert not errors
    value = kafka_record(valid, "shop", NOW, schema_version=3).value
    event, found = parse_raw_record("events.shop", b"evt-1", value)
    assert found == []
    assert event is not None
    assert event.schema_version == 3
    unstamped, _ = parse_raw_record("events.shop", b"evt-1", json.dumps(service_value()).encode())
    assert unstamped is not None
    assert unstamped.schema_version is None


@pytest.mark.parametrize("version", [0, -1, "2", 1.5, True, None])
def test_a_schema_version_that_is_not_a_positive_integer_breaks_the_contract(version):
    assert "schemaVersion is not a positive integer" in problems(with_changes(schemaVersion=version))
