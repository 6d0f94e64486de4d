"""``lakeCompleteUpTo``: the instant before which every event accepted with a 202 is in the lake.

Per partition of the project's raw topic, the batch ETL's committed offset ``c`` says every
record before it is in the lake (validated, a dropped repeat, or quarantined). The record at
``c`` was received at ``r``; a record received more than the produce timeout before ``r`` was
acknowledged before it, so sits at a lower offset. The partition is therefore complete up to
``r - produce timeout``, and a partition read to its end up to ``now - produce timeout``. The
project is complete up to the earliest of its partitions. One Kafka read per lagging partition,
so answers are kept for ``ttl_s``: a dashboard needs seconds, not milliseconds, of precision.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from analytics_pipeline.kafka_io.admin import committed_offsets, offsets_consumer
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import parse_rfc3339, utc_now


def lake_complete_up_to(
    bootstrap_servers: str, group: str, project_id: str, margin: timedelta, timeout_s: float = 5.0
) -> datetime | None:
    """None when the project has no raw topic yet."""
    topic = raw_topic(project_id)
    now = utc_now()
    committed = {
        tp.partition: offset
        for tp, offset in committed_offsets(bootstrap_servers, group).items()
        if tp.topic == topic
    }
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        if not partitions:
            return None
        tps = [TopicPartition(topic, p) for p in partitions]
        earliest, latest = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        bounds = []
        for tp in tps:
            done = max(committed.get(tp.partition, 0), earliest[tp])
            if done >= latest[tp]:
                bounds.append(now)
            else:
                bounds.append(_received_at(consumer, tp, done, timeout_s) or now)
    return min(bounds) - margin


def _received_at(
    consumer: KafkaConsumer, tp: TopicPartition, offset: int, timeout_s: float
) -> datetime | None:
    """The receive time the record at ``offset`` carries (None if it cannot be read or parsed)."""
    consumer.assign([tp])
    consumer.seek(tp, offset)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for record in consumer.poll(timeout_ms=200, max_records=1).get(tp, []):
            try:
                return parse_rfc3339(json.loads(record.value)["receivedAt"])
            except (ValueError, KeyError, TypeError):
                return None
    return None


class FreshnessCache:
    """``lake_complete_up_to`` per project, off the request path: a project's first answer is
    computed on the spot; after that a stale value is returned at once while one background
    thread brings it up to date, so no request waits on Kafka more than once."""

    def __init__(self, bootstrap_servers: str, group: str, margin: timedelta, ttl_s: float = 5.0) -> None:
        self._args = (bootstrap_servers, group)
        self._margin = margin
        self._ttl_s = ttl_s
        self._known: dict[str, tuple[datetime | None, float]] = {}
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

    def get(self, project_id: str) -> datetime | None:
        """None when the project has no topic yet, or Kafka cannot tell."""
        with self._lock:
            held = self._known.get(project_id)
            stale = held is None or time.monotonic() - held[1] >= self._ttl_s
            refresh = held is not None and stale and project_id not in self._refreshing
            if refresh:
                self._refreshing.add(project_id)
        if held is None:
            return self._refresh(project_id)
        if refresh:
            threading.Thread(target=self._refresh, args=(project_id,), daemon=True).start()
        return held[0]

    def _refresh(self, project_id: str) -> datetime | None:
        try:
            value = lake_complete_up_to(*self._args, project_id, self._margin)
        except (KafkaError, OSError):
            value = None  # Kafka does not answer: unknown, and said so as null
        with self._lock:
            self._known[project_id] = (value, time.monotonic())
            self._refreshing.discard(project_id)
        return value
