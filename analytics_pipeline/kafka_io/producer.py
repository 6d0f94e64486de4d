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

from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION, broker_answers
from analytics_pipeline.settings import Settings

log = logging.getLogger(__name__)

_PROBE_INTERVAL_S = 1.0


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


def build_kafka_producer(settings: Settings) -> KafkaProducer:
    """acks=all with idempotence: an acknowledged record survives a broker crash, once.

    The delivery timeout equals the HTTP wait, so a record the service answered 503 for is
    dropped by the producer instead of landing minutes later behind the client's retry.
    """
    timeout_ms = int(settings.kafka_produce_timeout_s * 1000)
    linger_ms = 2  # each request waits for its ack: linger adds to latency, batching still happens under load
    return acked_producer(
        settings,
        "analytics-ingest",
        linger_ms=linger_ms,
        request_timeout_ms=max(timeout_ms - linger_ms - 1, 1000),
        delivery_timeout_ms=timeout_ms,
        max_block_ms=timeout_ms,
        retry_backoff_ms=100,
        reconnect_backoff_max_ms=1000,
    )


class AckedProducer:
    """Wraps kafka-python's producer so that asyncio handlers can await acknowledgements.

    ``send`` can block (metadata fetch, full buffer), so it runs in a worker thread; the
    acknowledgement arrives on the producer's I/O thread and is handed to the event loop.

    Self-healing: kafka-python 3.0.12's idempotent producer can stay wedged after a broker crash
    (batches expire, the producer-id reset never completes, nothing is sent again although the
    broker is back). After a failed produce a background thread checks whether a broker answers
    (at most once a second); if one does, the producer is replaced by a fresh one. Requests never
    wait for that check.
    """

    def __init__(
        self,
        factory: Callable[[], KafkaProducer],
        timeout_s: float,
        broker_reachable: Callable[[], bool],
    ) -> None:
        self._factory = factory
        self._producer = factory()
        self._timeout_s = timeout_s
        self._broker_reachable = broker_reachable
        self._last_probe = 0.0
        self._probing = threading.Lock()
        self.replacements = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> AckedProducer:
        return cls(
            lambda: build_kafka_producer(settings),
            settings.kafka_produce_timeout_s,
            lambda: broker_answers(settings.kafka_bootstrap_servers, timeout_s=1.0),
        )

    async def send_all(self, records: Sequence[OutgoingRecord]) -> list[BaseException | None]:
        """Produce every record; per record ``None`` once acknowledged, else the error."""
        if not records:
            return []
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in records]
        await asyncio.to_thread(self._enqueue, loop, records, waiters)
        _done, pending = await asyncio.wait(waiters, timeout=self._timeout_s)
        outcomes: list[BaseException | None] = []
        for waiter in waiters:
            if waiter in pending:
                waiter.cancel()
                outcomes.append(ProduceFailed(f"no acknowledgement within {self._timeout_s:g} s"))
            else:
                outcomes.append(waiter.exception())
        if any(outcome is not None for outcome in outcomes):
            self._start_probe()
        return outcomes

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
            self.replacements += 1
        finally:
            self._probing.release()
        log.warning("a produce failed while Kafka answers: replaced the producer with a fresh one")
        _close_quietly(wedged)

    def _enqueue(
        self,
        loop: asyncio.AbstractEventLoop,
        records: Sequence[OutgoingRecord],
        waiters: list[asyncio.Future[None]],
    ) -> None:
        producer = self._producer
        deadline = time.monotonic() + self._timeout_s
        failure: BaseException | None = None
        for record, waiter in zip(records, waiters, strict=True):
            if failure is None and time.monotonic() > deadline:
                failure = ProduceFailed(f"could not enqueue within {self._timeout_s:g} s")
            if failure is not None:  # one blocked send means the broker is away: fail the rest now
                loop.call_soon_threadsafe(_settle, waiter, failure)
                continue
            try:
                future = producer.send(record.topic, key=record.key, value=record.value)
            except Exception as exc:  # noqa: BLE001 - every send error is a failed produce
                failure = exc
                loop.call_soon_threadsafe(_settle, waiter, exc)
                continue
            future.add_callback(lambda _metadata, w=waiter: loop.call_soon_threadsafe(_settle, w, None))
            future.add_errback(lambda exc, w=waiter: loop.call_soon_threadsafe(_settle, w, exc))

    def close(self, timeout_s: float = 10.0) -> None:
        _close_quietly(self._producer, timeout_s)


def _close_quietly(producer: KafkaProducer, timeout_s: float = 0.0) -> None:
    """Close, giving queued records ``timeout_s`` to go out; what remains was already failed."""
    try:
        producer.close(timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - a producer being discarded may not flush
        log.warning("closing a Kafka producer: %s", exc)


def _settle(waiter: asyncio.Future[None], error: BaseException | None) -> None:
    if waiter.done():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)
