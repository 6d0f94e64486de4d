"""An acknowledged Kafka producer for asyncio code: ``await`` until acks=all, or time out."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer

from analytics_pipeline.group_commit import GroupCommit
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION
from analytics_pipeline.kafka_io.replicas import broker_answers
from analytics_pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes
    value: bytes


class ProduceFailed(Exception):
    """Kafka did not acknowledge the record in time; the caller must not report it accepted."""


def acked_producer(settings: Settings, client_id: str, **tuning: Any) -> KafkaProducer:
    """The pipeline's producers: acks=all with idempotence (an acknowledged record survives a
    broker crash, once), snappy; ``tuning`` is each one's linger, batch and timeouts."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        api_version=KAFKA_API_VERSION,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        compression_type="snappy",
        **tuning,
    )


class NotSent(ProduceFailed):
    """The producer never took the record (no metadata, a full buffer): it cannot land."""


class DeliveryFailed(ProduceFailed):
    """The producer took the record and then gave up on it (its delivery timeout, an error, a
    close): a leader may have appended it all the same. ``cause`` is the producer's error;
    ``settled`` is the record's (failed) acknowledgement."""

    def __init__(self, cause: BaseException, settled: asyncio.Future[None]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.settled = settled


class StillDelivering(ProduceFailed):
    """No acknowledgement within the wait, but the producer still holds the record (until its
    delivery timeout): it may land yet. ``settled`` completes when it does (result None) or with
    the error the producer gave up with. Until then the record's outcome is unknown, so whatever
    guards against writing it twice (the ingest claim) must hold."""

    def __init__(self, message: str, settled: asyncio.Future[None]) -> None:
        super().__init__(message)
        self.settled = settled


_PROBE_INTERVAL_S = 1.0
# How long the producer keeps a record in a cluster by default: a failover (fencing the dead
# node, electing leaders, perhaps a controller first: about 4 to 8 s here) takes longer than the
# HTTP wait. Whatever it has not settled by then is decided by reading the log (ingest.undecided).
CLUSTER_DELIVERY_TIMEOUT_S = 30.0


def delivery_timeout_s(settings: Settings) -> float:
    """How long the producer keeps a record: never less than the HTTP wait (see
    ``build_kafka_producer``)."""
    chosen = settings.kafka_delivery_timeout_s
    if chosen is None:
        chosen = CLUSTER_DELIVERY_TIMEOUT_S if settings.kafka_brokers > 1 else 0.0
    return max(chosen, settings.kafka_produce_timeout_s)


def build_kafka_producer(settings: Settings) -> KafkaProducer:
    """acks=all with idempotence: an acknowledged record survives a broker crash, once, and a
    retried batch (same producer id and sequence) is never appended twice.

    The HTTP wait is ``kafka_produce_timeout_s``; the producer keeps a record up to the delivery
    timeout, which with one broker equals that wait (a record answered 503 is dropped, so the
    client's retry is the only copy) and with three outlasts a failover: a record that a leader
    appended while a dead follower was still in its ISR is acknowledged once the follower is
    fenced, instead of being abandoned unknown and written again by the client's retry.
    """
    timeout_ms = int(settings.kafka_produce_timeout_s * 1000)
    # Each request waits for its ack, so linger adds to latency; 1 ms still batches under load
    # (bench.ingest: more events/s than 0 or 2 ms, and a shorter wait than 2 ms).
    linger_ms = 1
    return acked_producer(
        settings,
        "analytics-ingest",
        linger_ms=linger_ms,
        request_timeout_ms=max(timeout_ms - linger_ms - 1, 1000),
        delivery_timeout_ms=int(delivery_timeout_s(settings) * 1000),
        max_block_ms=timeout_ms,
        retry_backoff_ms=100,
        reconnect_backoff_max_ms=1000,
    )


class AckedProducer:
    """Wraps kafka-python's producer so that asyncio handlers can await acknowledgements.

    ``send`` blocks while it fetches a new topic's metadata, so it then runs in a worker thread
    (otherwise on the event loop); the acknowledgement arrives on the producer's I/O thread and
    is handed to the event loop.

    Self-healing: kafka-python 3.0.12's idempotent producer can stay wedged after a broker crash
    (batches expire, the producer-id reset never completes, nothing is sent again although the
    broker is back, and records it still holds are never expired). Once a produce of the current
    producer failed, or a record outlived its delivery timeout unsettled, each later send starts
    a background check whether a broker answers (at most once a second: a failure during an
    outage is healed when the cluster is back); if one does, the producer is replaced by a fresh
    one, and the old one gets ``close_grace_s`` to settle what it still holds (then it fails it).
    Requests never wait for that check.
    """

    def __init__(
        self,
        factory: Callable[[], KafkaProducer],
        timeout_s: float,
        broker_reachable: Callable[[], bool],
        close_grace_s: float = 0.0,
        delivery_timeout_s: float | None = None,
    ) -> None:
        self._factory = factory
        self._producer = factory()
        self._timeout_s = timeout_s
        self._broker_reachable = broker_reachable
        self._close_grace_s = close_grace_s
        self._suspect = False  # a produce of the current producer failed: probe until replaced
        # When each unsettled record should have been settled by the producer (a wedged one never does).
        self._overdue_at: dict[asyncio.Future[None], float] = {}
        self._delivery_timeout_s = delivery_timeout_s or timeout_s
        self._last_probe = 0.0
        self._probing = threading.Lock()
        self.replacements = 0
        # Concurrent requests hand their records to the producer together (group commit).
        self._enqueues: GroupCommit[_Send, None] = GroupCommit(self._enqueue_group)

    @classmethod
    def from_settings(cls, settings: Settings) -> AckedProducer:
        return cls(
            lambda: build_kafka_producer(settings),
            settings.kafka_produce_timeout_s,
            lambda: broker_answers(settings.kafka_bootstrap_servers, timeout_s=1.0),
            close_grace_s=settings.kafka_produce_timeout_s,
            delivery_timeout_s=delivery_timeout_s(settings),
        )

    async def send_all(self, records: Sequence[OutgoingRecord]) -> list[BaseException | None]:
        """Produce every record; per record ``None`` once acknowledged, else the error:
        ``NotSent``, ``DeliveryFailed``, or ``StillDelivering`` for one the producer still holds
        when the wait ends."""
        if not records:
            return []
        now = time.monotonic()
        if self._suspect or any(due < now for due in self._overdue_at.values()):
            self._start_probe()
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in records]
        producer = self._producer
        for waiter in waiters:
            self._overdue_at[waiter] = now + self._delivery_timeout_s + _PROBE_INTERVAL_S
            waiter.add_done_callback(lambda w, sent_by=producer: self._note_failure(w, sent_by))
        await self._enqueues.submit([(producer, r, w) for r, w in zip(records, waiters, strict=True)])
        _done, pending = await asyncio.wait(waiters, timeout=self._timeout_s)
        message = f"no acknowledgement within {self._timeout_s:g} s"
        return [_outcome(waiter, pending, message) for waiter in waiters]

    def _note_failure(self, waiter: asyncio.Future[None], sent_by: KafkaProducer) -> None:
        self._overdue_at.pop(waiter, None)
        if (waiter.cancelled() or waiter.exception() is not None) and sent_by is self._producer:
            self._suspect = True
            self._start_probe()

    def _start_probe(self) -> None:
        if time.monotonic() - self._last_probe < _PROBE_INTERVAL_S or not self._probing.acquire(
            blocking=False
        ):
            return
        self._last_probe = time.monotonic()
        threading.Thread(
            target=self._replace_if_broker_answers, name="kafka-producer-probe", daemon=True
        ).start()

    def _replace_if_broker_answers(self) -> None:
        try:
            if not self._broker_reachable():
                return  # Kafka is away: nothing to heal yet; the next failure probes again
            wedged, self._producer = self._producer, self._factory()
            self._suspect = False
            self._overdue_at = {}  # the old producer's records: settled (or failed) by its close
            self.replacements += 1
        finally:
            self._probing.release()
        log.warning("a produce failed while Kafka answers: replaced the producer with a fresh one")
        _close_quietly(wedged, self._close_grace_s)

    async def _enqueue_group(self, sends: list[_Send]) -> list[None]:
        """On the event loop when no send can block, else in a worker thread: handing records to
        a thread costs each request a wait for the GIL (bench.ingest: the median at 1,000
        events/s went from about 11 ms to 7 ms without it)."""
        relay = _AckRelay(asyncio.get_running_loop())
        if all(_send_cannot_block(producer, record.topic) for producer, record, _ in sends):
            self._enqueue(relay, sends)
        else:
            await asyncio.to_thread(self._enqueue, relay, sends)
        return [None] * len(sends)

    def _enqueue(self, relay: _AckRelay, sends: list[_Send]) -> None:
        deadline = time.monotonic() + self._timeout_s
        failure: BaseException | None = None
        for producer, record, waiter in sends:
            if failure is None and time.monotonic() > deadline:
                failure = NotSent(f"could not enqueue within {self._timeout_s:g} s")
            if failure is not None:  # one blocked send means the broker is away: fail the rest now
                relay.settle(waiter, failure)
                continue
            try:
                future = producer.send(record.topic, key=record.key, value=record.value)
            except Exception as exc:  # noqa: BLE001 - every send error is a failed produce
                failure = NotSent(f"{type(exc).__name__}: {exc}")
                failure.__cause__ = exc
                relay.settle(waiter, failure)
                continue
            future.add_callback(lambda _metadata, w=waiter: relay.settle(w, None))
            future.add_errback(lambda exc, w=waiter: relay.settle(w, exc))

    def close(self, timeout_s: float = 10.0) -> None:
        _close_quietly(self._producer, timeout_s)


def _outcome(
    waiter: asyncio.Future[None], pending: set[asyncio.Future[None]], message: str
) -> BaseException | None:
    if waiter in pending:
        return StillDelivering(message, waiter)
    error = waiter.exception()
    if error is None or isinstance(error, NotSent):
        return error
    return DeliveryFailed(error, waiter)


def _close_quietly(producer: KafkaProducer, timeout_s: float = 0.0) -> None:
    """Close, giving queued records ``timeout_s`` to go out; what remains was already failed."""
    try:
        producer.close(timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - a producer being discarded may not flush
        log.warning("closing a Kafka producer: %s", exc)


_Send = tuple[KafkaProducer, OutgoingRecord, asyncio.Future[None]]


def _send_cannot_block(producer: KafkaProducer, topic: str) -> bool:
    """kafka-python 3.0.12's ``send`` blocks only to fetch the metadata of a topic it does not
    know yet (its accumulator has no buffer pool to wait on); the metadata is a private field."""
    return producer._metadata.partitions_for_topic(topic) is not None


class _AckRelay:
    """Hands acknowledgements from the producer's I/O thread to the event loop, one wake-up of
    the loop for all that arrived meanwhile rather than one per record."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._arrived: list[tuple[asyncio.Future[None], BaseException | None]] = []

    def settle(self, waiter: asyncio.Future[None], error: BaseException | None) -> None:
        with self._lock:
            wake = not self._arrived
            self._arrived.append((waiter, error))
        if wake:
            self._loop.call_soon_threadsafe(self._hand_over)

    def _hand_over(self) -> None:
        with self._lock:
            arrived, self._arrived = self._arrived, []
        for waiter, error in arrived:
            _settle(waiter, error)


def _settle(waiter: asyncio.Future[None], error: BaseException | None) -> None:
    if waiter.done():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)
