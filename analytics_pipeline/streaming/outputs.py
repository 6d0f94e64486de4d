"""What the worker writes to Kafka: processed events, window snapshots, dead letters.

Everything of a batch is flushed and acknowledged before its offsets are committed; a failure
raises ``OutputFailed`` and the batch is retried (a fresh producer replaces the old one, since
kafka-python's idempotent producer can stay wedged after a broker crash).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from analytics_pipeline.events.raw_record import RawEvent
from analytics_pipeline.kafka_io.admin import ensure_topics
from analytics_pipeline.kafka_io.producer import acked_producer
from analytics_pipeline.kafka_io.topics import (
    dead_letter_topic,
    metrics_topic,
    metrics_topic_spec,
    processed_topic,
    project_of_raw_topic,
)
from analytics_pipeline.realtime.aggregator import WindowSnapshot
from analytics_pipeline.realtime.layout import ACTIVE_USERS, ALL_EVENTS
from analytics_pipeline.realtime.windows import format_window
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import format_rfc3339, utc_now

log = logging.getLogger(__name__)
BUILT_IN_METRICS = (ALL_EVENTS, ACTIVE_USERS)


class OutputFailed(Exception):
    """Kafka did not acknowledge everything the batch wrote."""


EVENT_TYPES = "event_types"  # metrics.event_types: the snapshots of every eventType's windows


def snapshot_placement(project_id: str, metric: str) -> tuple[str, str]:
    """(the metric whose topic carries the snapshot, the key's prefix) of a window's snapshots."""
    if metric in BUILT_IN_METRICS:
        return metric, project_id
    return EVENT_TYPES, f"{project_id}:{metric}"


@dataclass(frozen=True)
class SourceRecord:
    """Where a record came from: enough to find it again, and what it held."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None

    @property
    def position(self) -> str:
        """``partition@offset``: unique within the raw topic of one project."""
        return f"{self.partition}@{self.offset}"


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    stage: str  # decode | contract | aggregate
    reason: str
    attempts: int = 1


def build_worker_producer(settings: Settings) -> KafkaProducer:
    return acked_producer(
        settings,
        "analytics-stream-worker",
        # The worker flushes after every batch, so lingering costs no latency; large batches
        # halve kafka-python's per-record cost (measured: 29 -> 13 us a record).
        linger_ms=20,
        batch_size=256 * 1024,
        max_block_ms=int(settings.kafka_produce_timeout_s * 1000),
        retry_backoff_ms=100,
        reconnect_backoff_max_ms=1000,
    )


class StreamOutputs:
    def __init__(self, settings: Settings, factory: Callable[[], KafkaProducer] | None = None) -> None:
        self._settings = settings
        self._factory = factory or (lambda: build_worker_producer(settings))
        self._producer: KafkaProducer | None = None
        self._pending: list[FutureRecordMetadata] = []
        self._known_metric_topics: set[str] = set()
        self._partition_counts: dict[str, int] = {}

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._factory()
        return self._producer

    def processed(self, events: Iterable[tuple[SourceRecord, RawEvent]], worker_id: str) -> None:
        """Validated events, enriched with where and when they were processed; same key (eventId).

        Each goes to the partition its raw record came from (the same eventId -> partition map
        when both topics have as many partitions), which spares kafka-python's pure-Python murmur2.
        """
        processed_at = format_rfc3339(utc_now())
        headers = [("worker", worker_id.encode())]
        for source, event in events:
            topic = processed_topic(event.project_id)
            value = _enriched(source, event, processed_at)
            self._send(
                topic, source.key, value, headers, partition=self._same_partition(topic, source.partition)
            )

    def snapshots(self, snapshots: Iterable[WindowSnapshot]) -> None:
        """The latest value of each window the batch touched: the built-in metrics on
        ``metrics.{metric}``, every eventType's on the one topic ``metrics.event_types``.

        Keyed by project, (eventType,) granularity and window, so a window's snapshots stay in
        order on one partition and the last one is its current value. One topic for all event
        types bounds what a client can make the cluster create: a new eventType is a new key, not
        a new topic of 10 partitions.
        """
        updated_at = format_rfc3339(utc_now())
        for snapshot in snapshots:
            window = snapshot.window
            topic_metric, key_prefix = snapshot_placement(window.project_id, window.metric)
            topic = metrics_topic(topic_metric)
            self._ensure_metric_topic(topic_metric, topic)
            start = format_window(window.start)
            value = {
                "projectId": window.project_id,
                "metric": window.metric,
                "granularity": str(window.granularity),
                "windowStart": start,
                "count": snapshot.count,
                "uniqueUsers": snapshot.unique_users,
                "updatedAt": updated_at,
            }
            self._send(topic, f"{key_prefix}:{window.granularity}:{start}".encode(), _json(value))

    def dead_letter(self, letter: DeadLetter, worker_id: str) -> None:
        """The record as it was, with why and where from in the headers."""
        record = letter.record
        project_id = project_of_raw_topic(record.topic)
        if project_id is None:  # the pattern subscription only yields raw topics
            raise ValueError(f"{record.topic} is not a raw topic")
        headers = {
            "error.stage": letter.stage,
            "error.reason": letter.reason[:1000],
            "error.attempts": str(letter.attempts),
            "source.topic": record.topic,
            "source.partition": str(record.partition),
            "source.offset": str(record.offset),
            "source.timestamp": str(record.timestamp_ms),
            "failed.at": format_rfc3339(utc_now()),
            "worker": worker_id,
        }
        self._send(
            dead_letter_topic(project_id),
            record.key,
            record.value,
            [(name, value.encode()) for name, value in headers.items()],
        )

    def flush(self) -> None:
        """Wait until Kafka acknowledged everything sent since the last flush."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self.producer.flush(timeout=self._settings.kafka_produce_timeout_s)
            for future in pending:
                future.get(timeout=0)
        except KafkaError as exc:
            self._replace_producer()
            raise OutputFailed(f"Kafka did not acknowledge the batch's output: {exc}") from exc

    def discard(self) -> None:
        """Forget unacknowledged sends (the batch will be redone) and start a fresh producer."""
        self._pending = []
        self._replace_producer()

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self._settings.kafka_produce_timeout_s)
            self._producer = None

    def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
        partition: int | None = None,
    ) -> None:
        try:
            future = self.producer.send(topic, key=key, value=value, headers=headers, partition=partition)
            self._pending.append(future)
        except KafkaError as exc:
            self._replace_producer()
            raise OutputFailed(f"could not hand a record to Kafka: {exc}") from exc

    def _same_partition(self, topic: str, source_partition: int) -> int | None:
        partitions = self._partition_counts.get(topic)
        if partitions is None:
            try:
                partitions = len(self.producer.partitions_for(topic) or ())
            except KafkaError as exc:
                self._replace_producer()
                raise OutputFailed(f"no metadata for {topic}: {exc}") from exc
            self._partition_counts[topic] = partitions
        return source_partition if source_partition < partitions else None

    def _ensure_metric_topic(self, metric: str, topic: str) -> None:
        if topic in self._known_metric_topics:
            return
        try:
            ensure_topics(
                self._settings.kafka_bootstrap_servers, [metrics_topic_spec(metric, self._settings)]
            )
        except KafkaError as exc:
            raise OutputFailed(f"could not create {topic}: {exc}") from exc
        self._known_metric_topics.add(topic)

    def _replace_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception:
                log.warning("closing the old producer failed", exc_info=True)


def _enriched(source: SourceRecord, event: RawEvent, processed_at: str) -> bytes:
    """The raw JSON object with ``processedAt`` and ``source`` appended, without re-encoding it
    (the raw value is a JSON object, checked by the contract, so it ends with its closing brace)."""
    raw = (source.value or b"").rstrip()
    if "processedAt" in event.value or "source" in event.value or not raw.endswith(b"}"):
        return _json({**event.value, "processedAt": processed_at, "source": _position(source)})
    extra = _json({"processedAt": processed_at, "source": _position(source)})
    separator = b"," if event.value else b""
    return raw[:-1] + separator + extra[1:]


def _position(source: SourceRecord) -> dict[str, Any]:
    return {"topic": source.topic, "partition": source.partition, "offset": source.offset}


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
