"""Write records straight into a raw topic, bypassing the ingestion service (and its dedup)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import utc_now

_ANY_TIME = TimeWindow(max_future=timedelta(days=365), max_age=timedelta(days=3650))


def raw_record(
    project_id: str,
    event: dict[str, Any],
    received_at: datetime | None = None,
    schema_version: int | None = None,
) -> tuple[bytes, bytes]:
    """(key, value) exactly as the ingestion service would write the event, accepted under
    ``schema_version`` of its type's schema (None: its type had none)."""
    valid, errors = validate_event(event, received_at=received_at or utc_now(), window=_ANY_TIME)
    assert valid is not None, errors
    record = kafka_record(valid, project_id, received_at or utc_now(), schema_version=schema_version)
    return record.key, record.value


class RawWriter:
    """An acks=all producer into raw topics; ``close()`` (or the with-block) flushes."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers, api_version=KAFKA_API_VERSION, acks="all", linger_ms=5
        )

    def events(self, project_id: str, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            key, value = raw_record(project_id, event)
            self._producer.send(raw_topic(project_id), key=key, value=value)
        self._producer.flush(30)

    def bytes(self, project_id: str, key: bytes | None, value: bytes | None, *, flush: bool = True) -> None:
        self._producer.send(raw_topic(project_id), key=key, value=value)
        if flush:
            self._producer.flush(30)

    def record(
        self, topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str] | None = None
    ) -> None:
        """One record into any topic (a dead-letter topic, say), with string headers."""
        encoded = [(name, text.encode()) for name, text in (headers or {}).items()]
        self._producer.send(topic, key=key, value=value, headers=encoded)

    def flush(self) -> None:
        self._producer.flush(30)

    def close(self) -> None:
        self._producer.close(10)

    def __enter__(self) -> RawWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
