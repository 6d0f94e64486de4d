"""The streaming worker's loop: poll, process, commit; retry what fails for a transient reason."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import redis
from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError

from analytics_pipeline.realtime.aggregator import RealtimeAggregator
from analytics_pipeline.settings import Settings
from analytics_pipeline.streaming.consumer import build_consumer, first_offsets, next_offsets, source_record
from analytics_pipeline.streaming.dagster_report import DagsterReporter
from analytics_pipeline.streaming.membership import Membership
from analytics_pipeline.streaming.metrics import StreamMetrics
from analytics_pipeline.streaming.outputs import SourceRecord, StreamOutputs
from analytics_pipeline.streaming.processor import BatchProcessor, BatchReport, TransientFailure
from analytics_pipeline.streaming.watchdog import Watchdog

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 2.0
_COMMIT_TIMEOUT_MS = 10_000  # well inside the watchdog's stall timeout


def default_worker_id(settings: Settings) -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{settings.stream_metrics_port}"


class StreamWorker:
    def __init__(self, settings: Settings, *, worker_id: str | None = None) -> None:
        self.settings = settings
        self.worker_id = worker_id or default_worker_id(settings)
        self.metrics = StreamMetrics()
        self._redis = redis.Redis.from_url(
            settings.redis_url, socket_timeout=5.0, socket_connect_timeout=settings.redis_timeout_s
        )
        self._outputs = StreamOutputs(settings)
        self._processor = BatchProcessor(
            RealtimeAggregator(
                self._redis,
                ttl_windows=settings.metric_ttl_windows,
                processed_ttl_s=settings.stream_processed_ttl_s,
            ),
            self._outputs,
            self.metrics,
            worker_id=self.worker_id,
            max_attempts=settings.stream_max_attempts,
        )
        self._lag_labels: set[tuple[str, str]] = set()
        self._lag = 0
        self.watchdog = Watchdog(settings.stream_stall_timeout_s)
        self.reporter = DagsterReporter(
            settings.dagster_url, settings.stream_report_interval_s, self.worker_id
        )

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set; the batch in hand is finished (or left uncommitted) first."""
        membership = Membership()
        consumer = build_consumer(self.settings, f"stream-worker-{self.worker_id}", membership)
        self.watchdog.start()
        log.info("stream worker %s consuming group %s", self.worker_id, self.settings.stream_group)
        try:
            while not stop.is_set():
                polled = consumer.poll(timeout_ms=self.settings.stream_poll_timeout_ms)
                records = [source_record(record) for batch in polled.values() for record in batch]
                self._lag = self._record_lag(consumer)
                # Progress is records handled, or nothing to read: no raw topic yet, or a settled
                # member that is caught up. A rebalance that never settles (kafka-python 3.0.12
                # can lose its SyncGroup), or records that never arrive, starve the watchdog.
                idle = not consumer.subscription() or (membership.settled and self._lag == 0)
                if records or idle:
                    self.watchdog.beat()
                if records:
                    self._handle(consumer, records, stop)
                    # kafka-python does all network I/O on a background thread: leave it the GIL
                    # for a moment, or heartbeats and fetches starve under a busy loop.
                    time.sleep(0.001)
                self.reporter.maybe_report(self._lag)
        finally:
            self.watchdog.stop()
            consumer.close(autocommit=False)
            self._outputs.close()
            self.reporter.close(self._lag)
            self._redis.close()

    def _handle(self, consumer: KafkaConsumer, records: list[SourceRecord], stop: threading.Event) -> None:
        started = time.perf_counter()
        report = self._process_with_retries(records, stop)
        if report is None:  # still failing, or stopping: poll the same records again later
            assigned = consumer.assignment()
            for tp, offset in first_offsets(records).items():
                if tp in assigned:
                    consumer.seek(tp, offset)
            return
        self._commit(consumer, records)
        self.metrics.batch_latency.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(records))
        projects = {record.topic.removeprefix("events.") for record in records}
        self.reporter.note(report.applied, report.duplicates, len(report.dead_letters), projects)

    def _process_with_retries(self, records: list[SourceRecord], stop: threading.Event) -> BatchReport | None:
        deadline = time.monotonic() + self.settings.stream_retry_budget_s
        backoff = 0.1
        while not stop.is_set():
            self.watchdog.beat()
            try:
                return self._processor.process(records)
            except TransientFailure as exc:
                self.metrics.retries.labels(cause=exc.cause).inc()
                log.warning("batch of %d records failed (%s); retrying", len(records), exc)
                if time.monotonic() >= deadline:
                    return None
                stop.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
        return None

    def _commit(self, consumer: KafkaConsumer, records: list[SourceRecord]) -> None:
        try:
            consumer.commit(next_offsets(records), timeout_ms=_COMMIT_TIMEOUT_MS)
            self.metrics.last_commit.set(time.time())
        except (CommitFailedError, KafkaError) as exc:
            # The group moved on (rebalance) or the broker is away: whoever polls these records
            # next finds them marked processed and skips them.
            self.metrics.commit_failures.inc()
            log.warning("offset commit failed (%s); the batch will be redelivered and skipped", exc)

    def _record_lag(self, consumer: KafkaConsumer) -> int:
        """Per assigned partition, records behind its end (as of the last fetch); the total."""
        total, labels = 0, set()
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            lag = max(highwater - consumer.position(tp, timeout_ms=1000), 0)
            label = (tp.topic, str(tp.partition))
            self.metrics.lag.labels(*label).set(lag)
            labels.add(label)
            total += lag
        for gone in self._lag_labels - labels:  # revoked in a rebalance: another worker reports it
            self.metrics.lag.remove(*gone)
        self._lag_labels = labels
        return total
