"""Helpers of the archive tests: records with headers and timestamps in a raw topic, the ranges
that cover a topic, and every record the archive holds for a project."""

from __future__ import annotations

import uuid

from kafka import KafkaProducer

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import decode, project_prefix
from analytics_pipeline.kafka_io.admin import (
    KAFKA_API_VERSION,
    TopicRecord,
    ensure_topics,
    read_spans,
    topic_offsets,
)
from analytics_pipeline.kafka_io.topics import project_topics, raw_topic
from analytics_pipeline.lakehouse.batch_plan import split_runs
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.settings import Settings


def new_raw_topic(settings: Settings, prefix: str = "arch") -> str:
    project = f"{prefix}-{uuid.uuid4().hex[:10]}"
    ensure_topics(settings.kafka_bootstrap_servers, project_topics(project, settings))
    return project


def write_records(settings: Settings, project: str, count: int, *, timestamp_ms: int | None = None) -> None:
    """``count`` records spread over the partitions, each with headers, some with a null key."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, api_version=KAFKA_API_VERSION, acks="all"
    )
    for i in range(count):
        producer.send(
            raw_topic(project),
            key=None if i % 10 == 0 else f"e-{i}".encode(),
            value=f'{{"n":{i}}}'.encode(),
            partition=i % (settings.kafka_topic_partitions or 1),
            headers=[("trace", uuid.uuid4().bytes), ("seq", str(i).encode())],
            timestamp_ms=timestamp_ms,
        )
    producer.flush(30)
    producer.close(10)


def topic_ends(settings: Settings, project: str) -> dict[tuple[str, int], int]:
    topic = raw_topic(project)
    return {(topic, o.partition): o.latest for o in topic_offsets(settings.kafka_bootstrap_servers, topic)}


def covering_ranges(settings: Settings, project: str, per_range: int) -> list[OffsetRange]:
    whole = [
        OffsetRange(t, p, 0, end) for (t, p), end in sorted(topic_ends(settings, project).items()) if end
    ]
    return [r for run in split_runs(whole, per_range) for r in run]


def kafka_records(settings: Settings, project: str) -> list[TopicRecord]:
    spans = {tp: (0, end) for tp, end in topic_ends(settings, project).items()}
    return sorted(
        read_spans(settings.kafka_bootstrap_servers, spans, 30.0), key=lambda r: (r.partition, r.offset)
    )


def archived_records(store: ArchiveStore, project: str) -> list[TopicRecord]:
    records = [r for obj in store.objects(project_prefix(project)) for r in decode(store.read(obj.key))]
    return sorted(records, key=lambda r: (r.partition, r.offset))
