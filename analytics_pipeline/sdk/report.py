"""What became of the events a client sent: per batch for callbacks, in total for the report."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from analytics_pipeline.events.envelope import FieldError


@dataclass(frozen=True)
class RejectedEvent:
    """The server judged the event invalid; sending it again would not help."""

    event_id: str
    index: int  # position in the request that was rejected
    errors: tuple[FieldError, ...]


@dataclass(frozen=True)
class FailedEvent:
    """The event never reached the server's log: retries ran out or the error was not retryable."""

    event_id: str
    error: str


@dataclass(frozen=True)
class BatchOutcome:
    """One batch once its retries are over; every event of the batch is in exactly one field."""

    accepted: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()  # the server already had them: delivered all the same
    rejected: tuple[RejectedEvent, ...] = ()
    failed: tuple[FailedEvent, ...] = ()
    retries: int = 0

    @property
    def size(self) -> int:
        return len(self.accepted) + len(self.duplicates) + len(self.rejected) + len(self.failed)


@dataclass(frozen=True)
class DeliveryReport:
    """A snapshot of a client's totals. ``delivered`` counts new events; duplicates are delivered too."""

    delivered: int
    duplicates: int
    rejected: tuple[RejectedEvent, ...]
    failed: tuple[FailedEvent, ...]
    retries: int

    @property
    def settled(self) -> int:
        """Events with a final outcome."""
        return self.delivered + self.duplicates + len(self.rejected) + len(self.failed)


class Tally:
    """Running totals written by the worker thread and read by any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delivered = 0
        self._duplicates = 0
        self._rejected: list[RejectedEvent] = []
        self._failed: list[FailedEvent] = []
        self._retries = 0

    def add(self, outcome: BatchOutcome) -> None:
        with self._lock:
            self._delivered += len(outcome.accepted)
            self._duplicates += len(outcome.duplicates)
            self._rejected.extend(outcome.rejected)
            self._failed.extend(outcome.failed)
            self._retries += outcome.retries

    def snapshot(self) -> DeliveryReport:
        with self._lock:
            return DeliveryReport(
                self._delivered, self._duplicates, tuple(self._rejected), tuple(self._failed), self._retries
            )
