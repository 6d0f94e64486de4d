"""``lakeCompleteUpTo``: the instant before which every event accepted with a 202 is in the lake.

Per partition of the project's raw topic, the batch ETL's committed offset ``c`` says every
record before it is in the lake (validated, a dropped repeat, or quarantined). The record at
``c`` was received at ``r``; a record received more than the produce timeout before ``r`` was
acknowledged before it, so sits at a lower offset. The partition is therefore complete up to
``r - produce timeout``, and a partition read to its end up to ``now - produce timeout``. The
project is complete up to the earliest of its partitions. One Kafka read per lagging partition,
so answers are kept for ``ttl_s``: a dashboard needs seconds, not milliseconds, of precision.
The Kafka clients are opened once and kept: opening them costs tens of milliseconds of Python,
which a request waiting on the same process would feel.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from analytics_pipeline.kafka_io.admin import group_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import parse_rfc3339, utc_now

log = logging.getLogger(__name__)

PROBE_FETCH_BYTES = 64 * 1024  # one record is read per lagging partition: fetch little


class KafkaProgress:
    """How far the batch ETL has read each project's raw topic, through Kafka clients kept open
    between calls (one caller at a time; reopened after a Kafka error)."""

    def __init__(self, bootstrap_servers: str, group: str, margin: timedelta, timeout_s: float = 5.0) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.group = group
        self.margin = margin
        self.timeout_s = timeout_s
        self._clients: tuple[KafkaAdminClient, KafkaConsumer] | None = None
        self._closed = False
        self._lock = threading.Lock()

    def complete_up_to(self, project_id: str) -> datetime | None:
        """None when the project has no raw topic yet. ``KafkaTimeoutError`` when another
        project's answer holds the clients longer than the timeout."""
        if not self._lock.acquire(timeout=self.timeout_s):
            raise KafkaTimeoutError("the Kafka clients are busy with another project's answer")
        try:
            if self._closed:
                raise KafkaConnectionError("closed: the service is shutting down")
            return self._complete_up_to(*self._open(), raw_topic(project_id))
        except Exception:
            self._close()  # whatever went wrong, the next call starts from new clients
            raise
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._close()

    def _complete_up_to(
        self, admin: KafkaAdminClient, consumer: KafkaConsumer, topic: str
    ) -> datetime | None:
        now = utc_now()
        committed = {
            tp.partition: at
            for tp, at in group_offsets(admin, self.group, self.timeout_s).items()
            if tp.topic == topic
        }
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
                bounds.append(self._received_at(consumer, tp, done) or now)
        return min(bounds) - self.margin

    def _received_at(self, consumer: KafkaConsumer, tp: TopicPartition, offset: int) -> datetime | None:
        """The receive time the record at ``offset`` carries (None if it cannot be read or parsed)."""
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=200, max_records=1).get(tp, []):
                try:
                    return parse_rfc3339(json.loads(record.value)["receivedAt"])
                except (ValueError, KeyError, TypeError):
                    return None
        return None

    def _open(self) -> tuple[KafkaAdminClient, KafkaConsumer]:
        if self._clients is None:
            timeout_ms = int(self.timeout_s * 1000)
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                client_id="analytics-freshness",
            )
            try:
                consumer = KafkaConsumer(
                    bootstrap_servers=self.bootstrap_servers,
                    request_timeout_ms=timeout_ms,
                    bootstrap_timeout_ms=timeout_ms,
                    client_id="analytics-freshness",
                    enable_auto_commit=False,
                    max_partition_fetch_bytes=PROBE_FETCH_BYTES,
                    fetch_max_bytes=PROBE_FETCH_BYTES,
                )
            except BaseException:
                admin.close()
                raise
            self._clients = (admin, consumer)
        return self._clients

    def _close(self) -> None:
        if self._clients is not None:
            admin, consumer = self._clients
            self._clients = None
            consumer.close()
            admin.close()


class FreshnessCache:
    """``probe`` per project, off the request path: a project's first answer is computed on the
    spot; after that a stale value is returned at once while one background thread brings it up
    to date, so no request waits on Kafka more than once."""

    def __init__(self, probe: Callable[[str], datetime | None], ttl_s: float = 5.0) -> None:
        self._probe = probe
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
        value = None  # Kafka does not answer (or cannot tell): unknown, and said so as null
        try:
            value = self._probe(project_id)
        except (KafkaError, OSError):
            pass
        except Exception:  # an answer a dashboard can do without never fails a request
            log.exception("lakeCompleteUpTo of %s could not be computed", project_id)
        finally:
            with self._lock:
                self._known[project_id] = (value, time.monotonic())
                self._refreshing.discard(project_id)
        return value
