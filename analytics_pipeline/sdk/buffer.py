"""The bounded queue between ``track`` callers and the worker thread, with what ``flush`` waits on.

One condition guards everything so that a flush or a close can wake a worker that is waiting for a
batch to fill, and a ``track`` blocked on a full queue wakes as soon as the worker takes a batch.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from analytics_pipeline.sdk.encoding import batch_overhead_bytes


class QueueFullError(Exception):
    """``track`` found no room in the queue within its timeout: the server is slower than the caller."""


@dataclass(frozen=True)
class QueuedEvent:
    event_id: str
    body: bytes

    @property
    def cost(self) -> int:
        """Bytes the event adds to a batch body, its separating comma included."""
        return len(self.body) + 1


class EventBuffer:
    def __init__(self, *, max_size: int, batch_size: int, max_batch_bytes: int) -> None:
        self._max_size = max_size
        self._batch_size = batch_size
        # n events carry n - 1 commas, hence the + 1 next to the per-event cost.
        self._budget = max_batch_bytes - batch_overhead_bytes() + 1
        self._events: deque[QueuedEvent] = deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self._queued = 0  # events ever put
        self._taken = 0  # events ever handed to the worker
        self._settled = 0  # events with a final outcome
        self._flush_target = 0  # a flush waits for the events put before it
        self._closed = False

    def put(self, event: QueuedEvent, timeout_s: float) -> None:
        if event.cost > self._budget:
            raise ValueError(
                f"event {event.event_id!r} is {len(event.body)} bytes as JSON; a batch holds at most "
                f"{self._budget - 1} bytes of events: send smaller properties"
            )
        with self._cond:
            if self._closed:
                raise RuntimeError("the AnalyticsClient is closed; create a new one to send more events")
            if not self._cond.wait_for(lambda: len(self._events) < self._max_size, timeout=timeout_s):
                raise QueueFullError(
                    f"the event queue stayed full ({self._max_size} events) for {timeout_s} s: the server "
                    "takes events more slowly than they are tracked; slow down, or raise max_queue_size"
                )
            self._events.append(event)
            self._bytes += event.cost
            self._queued += 1
            if self._ready():  # a sender waits for a full batch (or the interval): wake it only then
                self._cond.notify_all()

    def next_batch(self, interval_s: float) -> list[QueuedEvent] | None:
        """Waits until a batch is full, ``interval_s`` passes or a flush asks; None once closed and empty."""
        with self._cond:
            self._cond.wait_for(self._ready, timeout=interval_s)
            if not self._events:
                return None if self._closed else []
            batch: list[QueuedEvent] = []
            cost = 0
            while (
                self._events and len(batch) < self._batch_size and cost + self._events[0].cost <= self._budget
            ):
                event = self._events.popleft()
                batch.append(event)
                cost += event.cost
            self._bytes -= cost
            self._taken += len(batch)
            self._cond.notify_all()
            return batch

    def _ready(self) -> bool:
        full = len(self._events) >= self._batch_size or self._bytes >= self._budget
        return full or self._closed or self._taken < self._flush_target

    def settle(self, count: int) -> None:
        with self._cond:
            self._settled += count
            self._cond.notify_all()

    def wait_settled(self, timeout_s: float | None) -> bool:
        """True once every event put so far has a final outcome; False if ``timeout_s`` ran out first."""
        with self._cond:
            target = self._queued
            self._flush_target = max(self._flush_target, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._settled >= target, timeout=timeout_s)

    def close(self) -> None:
        """Refuses new events; the worker drains what is queued, then gets ``None``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
