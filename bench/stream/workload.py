"""The raw events the worker consumes, built and written exactly as the ingestion service would."""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.raw_record import RawEvent, parse_raw_record
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION
from analytics_pipeline.loadgen.synthetic import generate_events
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from bench.common import BenchError
from bench.stream.progress import progress_bar

USERS = 5_000
PRELOAD_SPAN_S = 30 * 60  # pre-loaded events: the last 30 minutes
LIVE_SPAN_S = 5.0  # live events: sent within seconds of happening, like a batching SDK


def create_project(settings: Settings) -> str:
    store = MetadataStore(settings.metadata_database_url)
    try:
        project = provision_project(settings, store, f"bench-stream-{uuid.uuid4().hex[:6]}")
    finally:
        store.close()
    if project.topics_error:
        raise BenchError(f"could not create the project's topics: {project.topics_error}")
    return project.project_id


class EventSource:
    """The load generator's mix (event types, Zipf users) with timestamps redrawn over a recent span.

    ``generate_events`` spreads timestamps over whole days; a live stream's are minutes old.
    """

    def __init__(self, seed: int) -> None:
        self._events = generate_events(10**12, now=utc_now(), days=1, users=USERS, seed=seed)  # lazy
        self._rng = random.Random(seed)

    def payloads(self, count: int, *, now: datetime, span_s: float) -> list[dict[str, Any]]:
        payloads = []
        for event in itertools.islice(self._events, count):
            payload = event.as_payload()
            payload["timestamp"] = format_rfc3339(now - timedelta(seconds=self._rng.uniform(0, span_s)))
            payloads.append(payload)
        return payloads


def encode(
    settings: Settings,
    project_id: str,
    payloads: Sequence[dict[str, Any]],
    received_at: datetime,
    schema_versions: Mapping[str, int] | None = None,
) -> list[tuple[bytes, bytes]]:
    """(key, value) as the ingestion service writes them: the same validation and ``kafka_record``,
    stamped with the schema version of the event's type in ``schema_versions``."""
    versions = schema_versions or {}
    window = TimeWindow(
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_age=timedelta(seconds=settings.max_event_age_s),
    )
    records = []
    for payload in payloads:
        valid, errors = validate_event(payload, received_at=received_at, window=window)
        if valid is None:
            raise BenchError(f"a synthetic event was refused: {errors}")
        record = kafka_record(
            valid, project_id, received_at, schema_version=versions.get(valid.event.eventType)
        )
        records.append((record.key, record.value))
    return records


def decode(topic: str, records: Sequence[tuple[bytes, bytes]]) -> list[RawEvent]:
    """The events as the worker reads them, for baseline B (not timed: the worker's decoding is
    part of its own figure, not of the Redis baseline)."""
    events = []
    for key, value in records:
        event, problems = parse_raw_record(topic, key, value)
        if event is None:
            raise BenchError(f"a pre-loaded record breaks the raw-record contract: {problems}")
        events.append(event)
    return events


def bulk_producer(settings: Settings) -> KafkaProducer:
    """acks=all like the ingestion service, but batching freely: the load generator should take as
    little of the shared cores as it can (kafka-python pays per send, and per batch it wakes for)."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        api_version=KAFKA_API_VERSION,
        acks="all",
        compression_type="snappy",
        linger_ms=20,
        batch_size=256 * 1024,
    )


def preload(settings: Settings, topic: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    """Every future is checked, so the topic holds exactly the N records."""
    started = time.perf_counter()
    producer = bulk_producer(settings)
    with progress_bar() as progress:
        task = progress.add_task("pre-loading raw events", total=len(records))
        futures = []
        for index, (key, value) in enumerate(records, 1):
            futures.append(producer.send(topic, key=key, value=value))
            if index % 5_000 == 0:
                progress.update(task, completed=index)
        producer.flush(120)
        for future in futures:
            future.get(timeout=0)
    producer.close()
    return time.perf_counter() - started
