"""The ``metadata-index`` consumer group: a compact row per accepted event into the metadata
database, a batch at a time, off the request path (the design's "metadata updated later").

Offsets are committed only after the batch's rows are in the database. The database down pauses
the group's partitions (the consumer stays in the group, nothing is committed) and the batch is
written again with a growing backoff; once the database answers, the group catches up. An event
indexed twice keeps its first row. Rows older than the retention are deleted every few minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.exc import SQLAlchemyError

from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION
from analytics_pipeline.kafka_io.topics import RAW_TOPIC_PATTERN
from analytics_pipeline.metadata.event_index import EventIndex, IndexedEvent
from analytics_pipeline.settings import Settings
from analytics_pipeline.streaming.membership import Membership
from analytics_pipeline.streaming.watchdog import Watchdog
from analytics_pipeline.timeutil import utc_now

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
PURGE_EVERY_S = 600.0


class IndexerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.records = Counter(
            "analytics_index_records",
            "Raw records read by the metadata-index group, by outcome (indexed, skipped: not an event).",
            ["outcome"],
            registry=self.registry,
        )
        self.write_failures = Counter(
            "analytics_index_write_failures",
            "Batches the metadata database refused; each is written again after a backoff.",
            registry=self.registry,
        )
        self.paused = Gauge(
            "analytics_index_paused",
            "1 while the database is down and the group is paused.",
            registry=self.registry,
        )
        self.purged = Counter(
            "analytics_index_purged",
            "Index rows deleted for being older than the retention.",
            registry=self.registry,
        )


def indexed_events(records: Sequence[ConsumerRecord]) -> list[IndexedEvent]:
    """The rows of the records that keep the raw-record contract (others are not events)."""
    rows = []
    for record in records:
        event, _problems = parse_raw_record(record.topic, record.key, record.value)
        if event is not None:
            rows.append(
                IndexedEvent(
                    project_id=event.project_id,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    user_id=event.user_id,
                    timestamp=event.timestamp,
                    received_at=event.received_at,
                    partition=record.partition,
                    offset=record.offset,
                )
            )
    return rows


def batch_end_offsets(records: Sequence[ConsumerRecord]) -> dict[TopicPartition, OffsetAndMetadata]:
    last: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        last[tp] = max(last.get(tp, -1), record.offset)
    return {tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in last.items()}


class MetadataIndexer:
    def __init__(self, settings: Settings, index: EventIndex | None = None) -> None:
        self.settings = settings
        self.index = index or EventIndex(settings.metadata_database_url)
        self.metrics = IndexerMetrics()
        # kafka-python 3.0.12 can lose a SyncGroup and wait forever (see streaming.watchdog): a
        # loop that stays unsettled this long exits, and its supervisor starts a fresh one.
        self.membership = Membership()
        self.watchdog = Watchdog(settings.stream_stall_timeout_s)

    def build_consumer(self) -> KafkaConsumer:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            api_version=KAFKA_API_VERSION,
            group_id=self.settings.index_group,
            client_id="metadata-indexer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=int(self.settings.stream_topic_refresh_s * 1000),
            max_poll_records=self.settings.index_max_batch,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
        )
        consumer.subscribe(pattern=RAW_TOPIC_PATTERN, listener=self.membership)
        return consumer

    def run(self, stop: threading.Event) -> None:
        consumer = self.build_consumer()
        next_purge = 0.0
        self.watchdog.start()
        try:
            while not stop.is_set():
                polled = consumer.poll(timeout_ms=500)
                records = [record for batch in polled.values() for record in batch]
                if records or self.membership.settled or not consumer.subscription():
                    self.watchdog.beat()
                if records and self._write(consumer, records, stop):
                    try:
                        consumer.commit(batch_end_offsets(records))
                    except CommitFailedError:  # a rebalance moved the partitions: their new owner reads
                        log.info("commit refused after a rebalance; the batch is indexed again, harmlessly")
                if time.monotonic() >= next_purge:
                    self._purge()
                    next_purge = time.monotonic() + PURGE_EVERY_S
        finally:
            self.watchdog.stop()
            consumer.close()
            self.index.close()

    def _write(self, consumer: KafkaConsumer, records: list[ConsumerRecord], stop: threading.Event) -> bool:
        """Write the batch's rows, retrying while the database is down; False if told to stop first."""
        rows = indexed_events(records)
        backoff, paused = 1.0, False
        while True:
            try:
                self.index.add(rows)
                break
            except SQLAlchemyError as exc:
                self.metrics.write_failures.inc()
                self.metrics.paused.set(1)
                paused = True
                log.warning(
                    "metadata database refused a batch (%s); again in %.0f s", type(exc).__name__, backoff
                )
                if not self._wait_paused(consumer, backoff, stop):
                    return False
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        if paused:
            consumer.resume(*consumer.paused())
            self.metrics.paused.set(0)
            log.info("metadata database answers again: the group catches up")
        self.metrics.records.labels("indexed").inc(len(rows))
        self.metrics.records.labels("skipped").inc(len(records) - len(rows))
        return True

    def _wait_paused(self, consumer: KafkaConsumer, seconds: float, stop: threading.Event) -> bool:
        """Keep polling with every partition paused, so the consumer stays in the group; a
        partition a rebalance just assigned is rewound and paused too. False when told to stop."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            consumer.pause(*consumer.assignment())
            for tp, batch in consumer.poll(timeout_ms=200).items():
                consumer.seek(tp, batch[0].offset)  # read again once the database is back
            if self.membership.settled:
                self.watchdog.beat()  # waiting on the database on purpose, still in the group
            if stop.is_set():
                return False
        return True

    def _purge(self) -> None:
        cutoff = utc_now() - timedelta(seconds=self.settings.event_index_retention_s)
        try:
            self.metrics.purged.inc(self.index.purge(cutoff))
        except SQLAlchemyError as exc:
            log.warning("could not purge the event index (%s); next time", type(exc).__name__)
