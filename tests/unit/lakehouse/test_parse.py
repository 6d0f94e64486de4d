"""The Arrow verdicts on raw records: the contract's fields, typed as the tables want them; each
event judged by the schema version it was accepted under, then by the row-level quality rules."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.quality_rules import DEFAULT_CURRENCIES, QualityRules
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.lakehouse.parse import SchemaBook, judgments
from analytics_pipeline.lakehouse.tables import JUDGMENT_SCHEMA
from analytics_pipeline.metadata.store import StoredSchema

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = TimeWindow(max_future=NOW - NOW, max_age=NOW - datetime(2026, 10, 1, tzinfo=UTC))
RULES = QualityRules(DEFAULT_CURRENCIES, max_age=timedelta(days=30), max_future=timedelta(hours=1))


def purchase_schema(version: int, maximum: float) -> StoredSchema:
    amount = {"type": "number", "minimum": 0, "maximum": maximum}
    return StoredSchema(
        "shop",
        "purchase",
        version,
        {"type": "object", "required": ["amount"], "properties": {"amount": amount}},
    )


SCHEMAS = [purchase_schema(1, 1000), purchase_schema(2, 5)]  # v2 is stricter


def record(event_type: str, properties: dict, version: int | None = None) -> tuple[bytes, bytes]:
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
    written = kafka_record(valid, "shop", NOW, schema_version=version)
    return written.key, written.value


def judge_all(records: list[tuple[str, bytes | None, bytes | None]], *, newest: bool = False) -> list[dict]:
    topics, keys, values = zip(*records, strict=True)
    result = judgments(
        pa.array(topics, pa.string()),
        pa.array(keys, pa.binary()),
        pa.array(values, pa.binary()),
        SchemaBook.of(SCHEMAS, newest=newest),
        RULES,
    )
    assert len(result) == len(records)
    return result.to_pylist()


def judge_one(event_type: str, properties: dict, version: int | None = None, **options: bool) -> dict:
    key, value = record(event_type, properties, version)
    (row,) = judge_all([("events.shop", key, value)], **options)
    return row


def test_a_valid_event_keeps_its_fields_typed_for_the_tables():
    key, value = record("purchase", {"amount": 3.5, "currency": "EUR"}, version=1)
    (row,) = judge_all([("events.shop", key, value)])
    assert row["valid"]
    assert (row["problems"], row["stage"]) == ([], None)
    assert (row["projectId"], row["eventType"], row["userId"]) == ("shop", "purchase", "u1")
    assert row["eventId"] == key.decode()
    assert row["timestamp"] == datetime(2026, 11, 25, 23, 59, 59, 999000, tzinfo=UTC)
    assert row["eventDate"] == date(2026, 11, 25)  # the UTC date of the event time, not of receipt
    assert row["receivedAt"] == NOW
    assert json.loads(row["properties"]) == {"amount": 3.5, "currency": "EUR"}
    assert json.loads(row["context"]) == {"app": "ü"}
    assert row["schemaVersion"] == 1


def test_an_event_is_judged_by_the_version_it_was_accepted_under_not_a_newer_one():
    accepted_under_v1 = judge_one("purchase", {"amount": 9, "currency": "EUR"}, version=1)
    assert accepted_under_v1["valid"], accepted_under_v1["problems"]
    assert accepted_under_v1["schemaVersion"] == 1

    under_v2 = judge_one("purchase", {"amount": 9, "currency": "EUR"}, version=2)
    assert under_v2["problems"] == ["properties.amount: 9 is greater than the maximum of 5"]
    assert under_v2["stage"] == "schema"


def test_judging_by_the_newest_schemas_is_an_explicit_choice():
    row = judge_one("purchase", {"amount": 9, "currency": "EUR"}, version=1, newest=True)
    assert not row["valid"]
    assert row["schemaVersion"] == 2
    assert row["problems"] == ["properties.amount: 9 is greater than the maximum of 5"]


def test_an_event_accepted_without_a_schema_is_not_judged_by_one_registered_since():
    row = judge_one("purchase", {"amount": 2000, "currency": "EUR"})
    assert row["valid"], row["problems"]
    assert row["schemaVersion"] is None


def test_a_version_that_is_not_registered_bars_the_record():
    row = judge_one("purchase", {"amount": 1, "currency": "EUR"}, version=7)
    assert (row["valid"], row["stage"]) == (False, "schema")
    assert row["problems"] == ["schemaVersion 7 of purchase is not registered"]


def test_a_row_level_quality_rule_bars_the_record_naming_the_suite_and_the_rule():
    unknown = judge_one("purchase", {"amount": 3, "currency": "XXX"})
    assert (unknown["valid"], unknown["stage"]) == (False, "expectation")
    assert unknown["problems"] == ["purchase_expectations: purchase currency known (got XXX)"]
    assert unknown["eventId"] is not None, "the event's fields are kept for the quarantine"

    missing = judge_one("purchase", {"amount": -2})
    assert missing["problems"] == [
        "purchase_expectations: purchase amount >= 0 (got -2)",
        "purchase_expectations: purchase currency known (got <missing>)",
    ]


def test_a_replayed_event_out_of_the_window_falls_on_its_own_day_and_is_barred():
    key, value = record("page_view", {})
    value = json.dumps(json.loads(value) | {"timestamp": "1969-12-31T23:00:00Z"}).encode()  # a replay
    (row,) = judge_all([("events.shop", key, value)])
    assert row["eventDate"] == date(1969, 12, 31)
    assert row["stage"] == "expectation"
    assert row["problems"][0].startswith("envelope_expectations: timestamp within window (-")


def test_contract_problems_are_named_and_the_project_comes_from_the_topic():
    key, value = record("purchase", {"amount": -1, "currency": "EUR"}, version=1)
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
    assert [row["stage"] for row in rows] == ["schema", "contract", "contract", "contract"]
    assert {row["projectId"] for row in rows} == {"shop"}


def test_the_struct_matches_the_spark_schema_even_for_an_empty_batch():
    empty = judgments(
        pa.array([], pa.string()), pa.array([], pa.binary()), pa.array([], pa.binary()), SchemaBook({}), RULES
    )
    assert len(empty) == 0
    assert [field.name for field in empty.type] == JUDGMENT_SCHEMA.fieldNames()
    assert judge_one("page_view", {})["valid"]
