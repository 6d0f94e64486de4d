"""Kafka records to rows, judged by the one contract every consumer shares.

Runs on Spark's Python workers as an Arrow UDF over three columns (topic, key, value): each
record goes through ``events.raw_record.parse_raw_record`` (the envelope the streaming worker
and the quality checks also use), then the JSON Schema version it was accepted under (the one
the ingestion service enforced and stamped on it), then the row-level quality rules
(``events.quality_rules``). The verdict comes back as one struct
column; positions, timestamps and the raw bytes never leave the JVM, and no Python ``datetime``
is built for the output (times go back as integer microseconds).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from pyspark.sql import Column
from pyspark.sql.functions import arrow_udf

from analytics_pipeline.events.property_schema import CompiledSchema, compile_schema
from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.events.raw_record import SCHEMA_VERSION_FIELD, RawEvent, parse_raw_record
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.lakehouse.tables import CONTRACT, EXPECTATION, JUDGMENT_SCHEMA, SCHEMA
from analytics_pipeline.metadata.store import StoredSchema

SchemaKey = tuple[str, str, int]  # (projectId, eventType, version)
Judgment = tuple[Any, ...]  # one value per JUDGMENT_SCHEMA field, in its order

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MICROS_PER_DAY = 86_400_000_000
_ARROW_FIELDS = [
    pa.field("valid", pa.bool_(), nullable=False),
    pa.field("problems", pa.list_(pa.field("element", pa.string(), nullable=False)), nullable=False),
    pa.field("stage", pa.string()),
    pa.field("projectId", pa.string()),
    pa.field("eventDate", pa.int32()),  # days since 1970-01-01, cast to date32 once per batch
    pa.field("receivedAt", pa.int64()),  # microseconds since 1970-01-01 UTC, cast likewise
    pa.field("eventId", pa.string()),
    pa.field("eventType", pa.string()),
    pa.field("userId", pa.string()),
    pa.field("timestamp", pa.int64()),
    pa.field("properties", pa.string()),
    pa.field("context", pa.string()),
    pa.field("schemaVersion", pa.int32()),
]
_UTC_MICROS = pa.timestamp("us", tz="UTC")
_CASTS = {"eventDate": pa.date32(), "receivedAt": _UTC_MICROS, "timestamp": _UTC_MICROS}


def micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly."""
    return (moment - _EPOCH) // _MICROSECOND


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class SchemaBook:
    """The property schemas a batch judges by: each event by the version it was accepted under
    (its ``schemaVersion``; none when its type had no schema then), or, only when asked for
    (an explicit re-judging), by the newest version of its type."""

    versions: Mapping[SchemaKey, CompiledSchema]
    newest: Mapping[tuple[str, str], CompiledSchema] | None = None  # set: judge by these instead

    @classmethod
    def of(cls, stored: Iterable[StoredSchema], *, newest: bool = False) -> SchemaBook:
        versions = compile_schemas(stored)
        if not newest:
            return cls(versions)
        latest: dict[tuple[str, str], CompiledSchema] = {}
        for (project_id, event_type, _version), schema in sorted(versions.items()):
            latest[(project_id, event_type)] = schema  # sorted: the highest version stays
        return cls(versions, latest)

    def schema_for(self, event: RawEvent) -> tuple[CompiledSchema | None, str | None]:
        """The schema to judge by, or the problem that the one named is not registered."""
        if self.newest is not None:
            return self.newest.get((event.project_id, event.event_type)), None
        if event.schema_version is None:
            return None, None
        schema = self.versions.get((event.project_id, event.event_type, event.schema_version))
        if schema is None:
            return (
                None,
                f"{SCHEMA_VERSION_FIELD} {event.schema_version} of {event.event_type} is not registered",
            )
        return schema, None


def judge(
    topic: str, key: bytes | None, value: bytes | None, book: SchemaBook, rules: QualityRules
) -> Judgment:
    """What the lakehouse keeps of one record: its event fields, or the problems that bar it and
    the stage that found them (the contract, the property schema, or a quality rule)."""
    event, problems = parse_raw_record(topic, key, value)
    if event is None:
        return (False, problems, CONTRACT, project_of_raw_topic(topic), *(None,) * 9)
    schema, missing = book.schema_for(event)
    properties = event.value["properties"]
    if missing is not None:
        problems, stage = [missing], SCHEMA
    elif schema is not None and (
        problems := [f"{e.field}: {e.message}" for e in schema.errors_for(properties)]
    ):
        stage = SCHEMA
    else:
        problems = rules.broken(event.event_type, properties, event.timestamp, event.received_at)
        stage = EXPECTATION if problems else None
    timestamp = micros(event.timestamp)
    context = event.value.get("context")
    return (
        not problems,
        problems,
        stage,
        event.project_id,
        timestamp // _MICROS_PER_DAY,
        micros(event.received_at),
        event.event_id,
        event.event_type,
        event.user_id,
        timestamp,
        _json_text(properties),
        None if context is None else _json_text(context),
        schema.version if schema is not None else None,
    )


_DECIDED_IN_JVM: Judgment = (False, [], None, *(None,) * 10)


def compile_schemas(stored: Iterable[StoredSchema]) -> dict[SchemaKey, CompiledSchema]:
    return {
        (s.project_id, s.event_type, s.version): CompiledSchema(s.version, compile_schema(s.json_schema))
        for s in stored
    }


def judgments(
    topics: pa.Array, keys: pa.Array, values: pa.Array, book: SchemaBook, rules: QualityRules
) -> pa.StructArray:
    """The verdicts on one Arrow batch of records, as a struct array shaped like JUDGMENT_SCHEMA.
    A record sent without its topic was decided in the JVM (``judge_in_jvm``): its row here is a
    placeholder the caller does not use."""
    rows = [
        _DECIDED_IN_JVM if topic is None else judge(topic, key, value, book, rules)
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


def judgment_of(
    stored_schemas: list[StoredSchema], rules: QualityRules, *, newest_schemas: bool = False
) -> Callable[[Column, Column, Column], Column]:
    """A column function: ``judgment_of(schemas, rules)(topic, key, value)`` is the
    JUDGMENT_SCHEMA struct. ``stored_schemas`` holds every version the batch may name;
    ``newest_schemas`` judges by the newest of each type instead of the one accepted under.

    It takes the schemas as stored (plain data, cheap to ship to workers) and compiles them once
    per Python worker task, on its first batch.
    """
    books: list[SchemaBook] = []

    @arrow_udf(JUDGMENT_SCHEMA)  # type: ignore[misc]
    def judge_records(topics: pa.Array, keys: pa.Array, values: pa.Array) -> pa.Array:
        if not books:
            books.append(SchemaBook.of(stored_schemas, newest=newest_schemas))
        return judgments(topics, keys, values, books[0], rules)

    return judge_records
