"""The Arrow verdicts on raw records: the contract's fields, typed as the tables want them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pyarrow as pa

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.lakehouse.parse import compile_schemas, judgments
from analytics_pipeline.lakehouse.tables import JUDGMENT_SCHEMA
from analytics_pipeline.metadata.store import StoredSchema

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = TimeWindow(max_future=NOW - NOW, max_age=NOW - datetime(2026, 10, 1, tzinfo=UTC))
PURCHASE_SCHEMA = StoredSchema(
    "shop",
    "purchase",
    1,
    {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number", "minimum": 0}}},
)


def record(event_type: str, properties: dict) -> tuple[bytes, bytes]:
    event = {
        "eventId": uuid.uuid4().hex,
        "eventType": event_type,
        "userId": "u1",
        "timestamp": "2026-11-25T23:59:59.999Z",
        "properties": properties,
        "context": {"app": "ü"},
    }
    valid, errors = validate_event(event, received_at=NOW, window=WINDOW)
    assert not errors, errors
    written = kafka_record(valid, "shop", NOW)
    return written.key, written.value


def judge_all(records: list[tuple[str, bytes | None, bytes | None]]) -> list[dict]:
    topics, keys, values = zip(*records, strict=True)
    result = judgments(
        pa.array(topics, pa.string()),
        pa.array(keys, pa.binary()),
        pa.array(values, pa.binary()),
        compile_schemas([PURCHASE_SCHEMA]),
    )
    assert len(result) == len(records)
    return result.to_pylist()


def test_a_valid_event_keeps_its_fields_typed_for_the_tables():
    key, value = record("purchase", {"amount": 3.5})
    (row,) = judge_all([("events.shop", key, value)])
    assert row["valid"]
    assert row["problems"] == []
    assert (row["projectId"], row["eventType"], row["userId"]) == ("shop", "purchase", "u1")
    assert row["eventId"] == key.decode()
    assert row["timestamp"] == datetime(2026, 11, 25, 23, 59, 59, 999000, tzinfo=UTC)
    assert row["eventDate"] == date(2026, 11, 25)  # the UTC date of the event time, not of receipt
    assert row["receivedAt"] == NOW
    assert json.loads(row["properties"]) == {"amount": 3.5}
    assert json.loads(row["context"]) == {"app": "ü"}


def test_a_pre_1970_event_falls_on_its_own_day():
    key, value = record("page_view", {})
    value = json.dumps(json.loads(value) | {"timestamp": "1969-12-31T23:00:00Z"}).encode()  # a replay
    (row,) = judge_all([("events.shop", key, value)])
    assert row["eventDate"] == date(1969, 12, 31)


def test_problems_are_named_and_the_project_comes_from_the_topic():
    key, value = record("purchase", {"amount": -1})
    rows = judge_all(
        [
            ("events.shop", key, value),
            ("events.shop", b"k", b"not json"),
            ("events.shop", None, None),
            ("events.shop", b"other", value),
        ]
    )
    assert [row["valid"] for row in rows] == [False] * 4
    assert rows[0]["problems"] == ["properties.amount: -1 is less than the minimum of 0"]
    assert rows[0]["eventDate"] == date(2026, 11, 25)  # judged after the envelope parsed
    assert rows[1]["problems"] == ["value is not UTF-8 JSON"]
    assert rows[1]["eventId"] is None
    assert rows[2]["problems"] == ["value is not UTF-8 JSON"]
    assert rows[3]["problems"] == ["key is not the eventId"]
    assert {row["projectId"] for row in rows} == {"shop"}


def test_the_struct_matches_the_spark_schema_even_for_an_empty_batch():
    empty = judgments(pa.array([], pa.string()), pa.array([], pa.binary()), pa.array([], pa.binary()), {})
    assert len(empty) == 0
    assert [field.name for field in empty.type] == JUDGMENT_SCHEMA.fieldNames()
    key, value = record("page_view", {})
    full = judge_all([("events.shop", key, value)])
    assert full[0]["valid"]
