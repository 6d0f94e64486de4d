"""The processed event is the raw JSON plus processedAt and source, whichever way it is built."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.streaming.outputs import SourceRecord, _enriched
from tests.support.raw_events import raw_record

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def source_of(value: bytes, key: bytes = b"e1") -> SourceRecord:
    return SourceRecord("events.shop", 2, 41, 0, key, value)


@pytest.mark.parametrize(
    "event",
    [
        {"eventId": "e1", "eventType": "page_view", "userId": "u"},
        {
            "eventId": "e1",
            "eventType": "purchase",
            "userId": "ü",
            "properties": {"amount": 3.5, "x": [1, {}]},
        },
    ],
)
def test_the_spliced_value_is_the_raw_object_plus_two_fields(event):
    key, value = raw_record("shop", event, received_at=NOW)
    source = source_of(value + b"  \n", key)  # trailing whitespace is still one JSON object
    parsed, problems = parse_raw_record(source.topic, source.key, source.value)
    assert not problems
    enriched = json.loads(_enriched(source, parsed, "2026-11-26T12:00:01.000Z"))
    assert enriched == {
        **json.loads(value),
        "processedAt": "2026-11-26T12:00:01.000Z",
        "source": {"topic": "events.shop", "partition": 2, "offset": 41},
    }


def test_a_raw_event_that_already_has_the_fields_is_re_encoded_not_duplicated():
    key, value = raw_record(
        "shop", {"eventId": "e1", "eventType": "page_view", "userId": "u"}, received_at=NOW
    )
    raw = json.loads(value)
    raw["source"] = "sdk"
    tampered = json.dumps(raw).encode()
    parsed, _ = parse_raw_record("events.shop", key, tampered)
    enriched_bytes = _enriched(source_of(tampered, key), parsed, "t")
    assert enriched_bytes.count(b'"source"') == 1
    assert json.loads(enriched_bytes)["source"] == {"topic": "events.shop", "partition": 2, "offset": 41}
