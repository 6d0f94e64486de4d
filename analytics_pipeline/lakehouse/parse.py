"""Kafka records to rows, judged by the one contract every consumer shares.

Runs on Spark's Python workers as an Arrow UDF over three columns (topic, key, value): each
record goes through ``events.raw_record.parse_raw_record`` (the envelope the streaming worker
and the quality checks also use) and, when its project registered a schema for its eventType,
that JSON Schema (the one the ingestion service enforces). The verdict comes back as one struct
column; positions, timestamps and the raw bytes never leave the JVM, and no Python ``datetime``
is built for the output (times go back as integer microseconds).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from pyspark.sql import Column
from pyspark.sql.functions import arrow_udf

from analytics_pipeline.events.property_schema import CompiledSchema, compile_schema
from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.lakehouse.tables import JUDGMENT_SCHEMA
from analytics_pipeline.metadata.store import StoredSchema

SchemaKey = tuple[str, str]  # (projectId, eventType)
Judgment = tuple[Any, ...]  # one value per JUDGMENT_SCHEMA field, in its order

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MICROS_PER_DAY = 86_400_000_000
_ARROW_FIELDS = [
    pa.field("valid", pa.bool_(), nullable=False),
    pa.field("problems", pa.list_(pa.field("element", pa.string(), nullable=False)), nullable=False),
    pa.field("projectId", pa.string()),
    pa.field("eventDate", pa.int32()),  # days since 1970-01-01, cast to date32 once per batch
    pa.field("receivedAt", pa.int64()),  # microseconds since 1970-01-01 UTC, cast likewise
    pa.field("eventId", pa.string()),
    pa.field("eventType", pa.string()),
    pa.field("userId", pa.string()),
    pa.field("timestamp", pa.int64()),
    pa.field("properties", pa.string()),
    pa.field("context", pa.string()),
]
_UTC_MICROS = pa.timestamp("us", tz="UTC")
_CASTS = {"eventDate": pa.date32(), "receivedAt": _UTC_MICROS, "timestamp": _UTC_MICROS}


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def judge(
    topic: str, key: bytes | None, value: bytes | None, schemas: Mapping[SchemaKey, CompiledSchema]
) -> Judgment:
    """What the lakehouse keeps of one record: its event fields, or the problems that bar it."""
    event, problems = parse_raw_record(topic, key, value)
    if event is None:
        return (False, problems, project_of_raw_topic(topic), None, None, None, None, None, None, None, None)
    schema = schemas.get((event.project_id, event.event_type))
    if schema is not None:
        problems = [f"{e.field}: {e.message}" for e in schema.errors_for(event.value["properties"])]
    timestamp = _micros(event.timestamp)
    context = event.value.get("context")
    return (
        not problems,
        problems,
        event.project_id,
        timestamp // _MICROS_PER_DAY,
        _micros(event.received_at),
        event.event_id,
        event.event_type,
        event.user_id,
        timestamp,
        _json_text(event.value["properties"]),
        None if context is None else _json_text(context),
    )


def compile_schemas(stored: Iterable[StoredSchema]) -> dict[SchemaKey, CompiledSchema]:
    return {
        (s.project_id, s.event_type): CompiledSchema(s.version, compile_schema(s.json_schema)) for s in stored
    }


def judgments(
    topics: pa.Array, keys: pa.Array, values: pa.Array, schemas: Mapping[SchemaKey, CompiledSchema]
) -> pa.StructArray:
    """The verdicts on one Arrow batch of records, as a struct array shaped like JUDGMENT_SCHEMA."""
    rows = [
        judge(topic, key, value, schemas)
        for topic, key, value in zip(topics.to_pylist(), keys.to_pylist(), values.to_pylist(), strict=True)
    ]
    columns = zip(*rows, strict=True) if rows else ([] for _ in _ARROW_FIELDS)
    arrays = []
    for field, column in zip(_ARROW_FIELDS, columns, strict=True):
        array = pa.array(column, type=field.type)
        arrays.append(array.cast(_CASTS[field.name]) if field.name in _CASTS else array)
    fields = [
        pa.field(f.name, a.type, nullable=f.nullable) for f, a in zip(_ARROW_FIELDS, arrays, strict=True)
    ]
    return pa.StructArray.from_arrays(arrays, fields=fields)


def judgment_of(stored_schemas: list[StoredSchema]) -> Callable[[Column, Column, Column], Column]:
    """A column function: ``judgment_of(schemas)(topic, key, value)`` is the JUDGMENT_SCHEMA struct.

    It takes the schemas as stored (plain data, cheap to ship to workers) and compiles them once
    per Python worker task, on its first batch.
    """
    compiled: list[dict[SchemaKey, CompiledSchema]] = []

    @arrow_udf(JUDGMENT_SCHEMA)  # type: ignore[misc]
    def judge_records(topics: pa.Array, keys: pa.Array, values: pa.Array) -> pa.Array:
        if not compiled:
            compiled.append(compile_schemas(stored_schemas))
        return judgments(topics, keys, values, compiled[0])

    return judge_records
