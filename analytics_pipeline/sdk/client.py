"""The Python client: ``track`` enqueues, daemon threads batch and deliver."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx

from analytics_pipeline.sdk.buffer import EventBuffer, QueuedEvent
from analytics_pipeline.sdk.delivery import BatchSender
from analytics_pipeline.sdk.encoding import (
    SERVER_MAX_BATCH_BYTES,
    SERVER_MAX_BATCH_EVENTS,
    batch_overhead_bytes,
    encode_event,
    wire_timestamp,
)
from analytics_pipeline.sdk.report import BatchOutcome, DeliveryReport, FailedEvent, Tally
from analytics_pipeline.timeutil import utc_now

logger = logging.getLogger(__name__)


class AnalyticsClient:
    """Sends events to the ingestion API in batches, retrying with the same eventIds.

    ``senders`` batches are in flight at once, each on a thread and connection of its own, so
    that a server with several workers is kept busy (a connection stays with one worker).
    Batches may therefore land out of order, which the events' timestamps make harmless.
    ``on_result`` is called from those threads.

    The workers are daemon threads so that a forgotten client never keeps a program alive; the
    price is that events still queued at exit are lost unless ``close()`` (or ``with``) ran.
    ``sleep`` and ``clock`` are injectable so that tests need neither real waits nor real time.
    """

    def __init__(
        self,
        api_key: str,
        api_url: str = "http://127.0.0.1:8000",
        *,
        batch_size: int = 500,
        max_batch_bytes: int = 450_000,
        flush_interval_s: float = 1.0,
        senders: int = 4,
        max_queue_size: int = 100_000,
        max_retries: int = 3,
        backoff_s: Sequence[float] = (1, 2, 4, 8),
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        on_result: Callable[[BatchOutcome], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        _check_settings(
            api_key=api_key,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            flush_interval_s=flush_interval_s,
            max_queue_size=max_queue_size,
            max_retries=max_retries,
            backoff_s=backoff_s,
            senders=senders,
        )
        self._timeout_s = timeout_s
        self._flush_interval_s = flush_interval_s
        self._clock = clock
        self._on_result = on_result
        self._tally = Tally()
        self._buffer = EventBuffer(
            max_size=max_queue_size, batch_size=batch_size, max_batch_bytes=max_batch_bytes
        )
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )
        self._sender = BatchSender(
            self._http, max_retries=max_retries, backoff_s=backoff_s, sleep=sleep, clock=clock
        )
        self._workers = [
            threading.Thread(target=self._run, name=f"analytics-sdk-sender-{n}", daemon=True)
            for n in range(senders)
        ]
        for worker in self._workers:
            worker.start()

    def track(
        self,
        event_type: str,
        user_id: str,
        properties: Mapping[str, Any] | None = None,
        *,
        event_id: str | None = None,
        timestamp: datetime | str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> str:
        """Enqueue one event and return its eventId; the timestamp defaults to now, not to send time.

        Raises ``QueueFullError`` when the queue stays full for ``timeout_s``, and ``ValueError``
        when the event cannot be sent at all (not JSON, bigger than a batch, naive timestamp).
        """
        event_id = event_id if event_id is not None else str(uuid.uuid4())
        payload: dict[str, Any] = {
            "eventId": event_id,
            "eventType": event_type,
            "userId": user_id,
            "timestamp": wire_timestamp(timestamp if timestamp is not None else self._clock()),
            "properties": dict(properties or {}),
        }
        if context is not None:
            payload["context"] = dict(context)
        self._buffer.put(QueuedEvent(event_id, encode_event(payload)), self._timeout_s)
        return event_id

    def flush(self, timeout_s: float | None = None) -> bool:
        """Block until every event tracked so far is delivered, rejected or failed; False on timeout."""
        return self._buffer.wait_settled(timeout_s)

    def close(self, timeout_s: float | None = None) -> bool:
        """Deliver what is queued, then stop the worker; False if it was still busy after ``timeout_s``."""
        self._buffer.close()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for worker in self._workers:
            worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if any(worker.is_alive() for worker in self._workers):
            return False
        self._http.close()
        return True

    def report(self) -> DeliveryReport:
        """A consistent snapshot of the totals so far."""
        return self._tally.snapshot()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self) -> None:
        while (batch := self._buffer.next_batch(self._flush_interval_s)) is not None:
            if batch:
                self._finish(batch, self._deliver(batch))

    def _deliver(self, batch: list[QueuedEvent]) -> BatchOutcome:
        try:
            return self._sender.deliver(batch)
        except Exception as exc:  # a bug here must not stop the worker, or flush() would wait forever
            logger.exception("delivering a batch of %d events failed", len(batch))
            return BatchOutcome(failed=tuple(FailedEvent(e.event_id, f"SDK error: {exc!r}") for e in batch))

    def _finish(self, batch: list[QueuedEvent], outcome: BatchOutcome) -> None:
        self._tally.add(outcome)
        if self._on_result is not None:
            try:
                self._on_result(outcome)
            except Exception:
                logger.exception("the on_result callback raised; delivery goes on")
        # Settled last, so that once flush() returns the report and the callbacks are complete.
        self._buffer.settle(len(batch))


def _check_settings(
    *,
    api_key: str,
    batch_size: int,
    max_batch_bytes: int,
    flush_interval_s: float,
    max_queue_size: int,
    max_retries: int,
    backoff_s: Sequence[float],
    senders: int,
) -> None:
    problems = []
    if not api_key:
        problems.append("api_key is empty: pass the project's key (ak_...)")
    if not 1 <= batch_size <= SERVER_MAX_BATCH_EVENTS:
        problems.append(
            f"batch_size must lie in 1..{SERVER_MAX_BATCH_EVENTS} (the server's cap), not {batch_size}"
        )
    if not batch_overhead_bytes() < max_batch_bytes <= SERVER_MAX_BATCH_BYTES:
        problems.append(f"max_batch_bytes must be at most {SERVER_MAX_BATCH_BYTES} (the server's cap)")
    if flush_interval_s <= 0:
        problems.append("flush_interval_s must be positive")
    if max_queue_size < 1:
        problems.append("max_queue_size must be at least 1")
    if max_retries < 0:
        problems.append("max_retries must not be negative")
    if not backoff_s or min(backoff_s) < 0:
        problems.append("backoff_s needs at least one delay and no negative ones, e.g. (1, 2, 4, 8)")
    if senders < 1:
        problems.append("senders must be at least 1")
    if problems:
        raise ValueError("; ".join(problems))
