"""Kafka records to rows, judged by the one contract every consumer shares.

Runs on Spark's Python workers (``mapInArrow``): each record goes through
``events.raw_record.parse_raw_record`` (the envelope the streaming worker and the quality checks
also use) and, when its project registered a schema for its eventType, that JSON Schema (the one
the ingestion service enforces). Arrow batches in, Arrow batches out: no per-row Spark overhead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pyarrow as pa

from analytics_pipeline.events.property_schema import CompiledSchema, compile_schema
from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.metadata.store import StoredSchema

SchemaKey = tuple[str, str]  # (projectId, eventType)

_ARROW_TYPES = {
    "eventDate": pa.date32(),
    "kafkaTimestamp": pa.timestamp("us", tz="UTC"),
    "receivedAt": pa.timestamp("us", tz="UTC"),
    "ingestedAt": pa.timestamp("us", tz="UTC"),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "partition": pa.int32(),
    "offset": pa.int64(),
    "key": pa.binary(),
    "value": pa.binary(),
    "valid": pa.bool_(),
    "problems": pa.list_(pa.string()),
}


def judge(
    topic: str, key: bytes | None, value: bytes | None, schemas: Mapping[SchemaKey, CompiledSchema]
) -> dict[str, Any]:
    """What the lakehouse keeps of one record: its event fields, or the problems that bar it."""
    event, problems = parse_raw_record(topic, key, value)
    if event is None:
        return {"valid": False, "problems": problems, "projectId": project_of_raw_topic(topic)}
    schema = schemas.get((event.project_id, event.event_type))
    if schema is not None:
        problems = [f"{e.field}: {e.message}" for e in schema.errors_for(event.value["properties"])]
    context = event.value.get("context")
    return {
        "valid": not problems,
        "problems": problems,
        "projectId": event.project_id,
        "eventDate": event.timestamp.date(),
        "receivedAt": event.received_at,
        "eventId": event.event_id,
        "eventType": event.event_type,
        "userId": event.user_id,
        "timestamp": event.timestamp,
        "properties": json.dumps(event.value["properties"], separators=(",", ":"), ensure_ascii=False),
        "context": None
        if context is None
        else json.dumps(context, separators=(",", ":"), ensure_ascii=False),
    }


def compile_schemas(stored: Iterable[StoredSchema]) -> dict[SchemaKey, CompiledSchema]:
    return {
        (s.project_id, s.event_type): CompiledSchema(s.version, compile_schema(s.json_schema)) for s in stored
    }


def record_parser(
    stored_schemas: list[StoredSchema], field_names: list[str]
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function: records to rows of ``tables.PARSED_SCHEMA``.

    Its input holds the Kafka source's columns (topic, partition, offset, key, value, timestamp)
    plus batchId and ingestedAt, whether fresh from Kafka or read back from bronze. It takes the
    schemas as stored (plain data, cheap to ship to workers) and compiles them once per task.
    """

    def parse(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schemas = compile_schemas(stored_schemas)
        for batch in batches:
            columns = {name: [] for name in field_names}
            source = batch.to_pydict()
            for topic, partition, offset, key, value, kafka_ts, batch_id, ingested_at in zip(
                source["topic"],
                source["partition"],
                source["offset"],
                source["key"],
                source["value"],
                source["timestamp"],
                source["batchId"],
                source["ingestedAt"],
                strict=True,
            ):
                row = judge(topic, key, value, schemas)
                row |= {
                    "topic": topic,
                    "partition": partition,
                    "offset": offset,
                    "key": key,
                    "value": value,
                    "kafkaTimestamp": kafka_ts,
                    "batchId": batch_id,
                    "ingestedAt": ingested_at,
                }
                for name in field_names:
                    columns[name].append(row.get(name))
            yield pa.RecordBatch.from_arrays(
                [pa.array(columns[name], type=_ARROW_TYPES.get(name, pa.string())) for name in field_names],
                names=field_names,
            )

    return parse
