"""Sending one batch until each of its events has a final outcome: the retry protocol of the design.

Whole-batch failures (network, 429, 5xx) resend the batch with the same eventIds, so events the
server already took come back as duplicates; events the server lists under ``retry`` are resent
alone. Both draw on one budget of ``max_retries`` waits of ``max(backoff, server hint)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import ValidationError

from analytics_pipeline.events.envelope import FieldError
from analytics_pipeline.ingest.responses import BatchResult
from analytics_pipeline.sdk.buffer import QueuedEvent
from analytics_pipeline.sdk.encoding import encode_batch
from analytics_pipeline.sdk.report import BatchOutcome, FailedEvent, RejectedEvent
from analytics_pipeline.web.errors import ErrorBody

BATCH_PATH = "/v1/batch"


@dataclass
class _Collected:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[RejectedEvent] = field(default_factory=list)
    failed: list[FailedEvent] = field(default_factory=list)

    def fail(self, events: Sequence[QueuedEvent], error: str) -> None:
        self.failed.extend(FailedEvent(event.event_id, error) for event in events)

    def outcome(self, retries: int) -> BatchOutcome:
        return BatchOutcome(
            tuple(self.accepted), tuple(self.duplicates), tuple(self.rejected), tuple(self.failed), retries
        )


@dataclass(frozen=True)
class _Again:
    """Events one request left to send again, the server's wait hint and the error if retries run out."""

    events: list[QueuedEvent]
    wait_s: float
    error: str


class BatchSender:
    def __init__(
        self,
        http: httpx.Client,
        *,
        max_retries: int,
        backoff_s: Sequence[float],
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._http = http
        self._max_retries = max_retries
        self._backoff_s = tuple(backoff_s)
        self._sleep = sleep
        self._clock = clock

    def deliver(self, events: list[QueuedEvent]) -> BatchOutcome:
        collected = _Collected()
        pending, retries = events, 0
        while pending:
            again = self._send(pending, collected)
            if again is None:
                break
            if retries >= self._max_retries:
                collected.fail(again.events, f"{again.error} (gave up after {retries} retries)")
                break
            self._sleep(max(self._backoff_s[min(retries, len(self._backoff_s) - 1)], again.wait_s))
            retries += 1
            pending = again.events
        return collected.outcome(retries)

    def _send(self, events: list[QueuedEvent], collected: _Collected) -> _Again | None:
        # sentAt is stamped per attempt: the server corrects clock skew by receive time minus sentAt.
        body = encode_batch([event.body for event in events], self._clock())
        try:
            response = self._http.post(BATCH_PATH, content=body)
        except httpx.TransportError as exc:
            return _Again(events, 0.0, f"network error: {type(exc).__name__}: {exc}")
        status = response.status_code
        if status == 202:
            return _read_result(events, response, collected)
        if status == 409:  # the single-event answer for "already accepted"; delivered all the same
            collected.duplicates.extend(event.event_id for event in events)
            return None
        error = _describe(response)
        if status == 429 or status >= 500:
            return _Again(events, _retry_after_s(response), error)
        if status == 400:  # the envelope itself is invalid: a bug, every event is rejected
            errors = tuple(_field_errors(response))
            collected.rejected.extend(RejectedEvent(e.event_id, i, errors) for i, e in enumerate(events))
        else:  # 401, 413 and the like: sending the same request again cannot succeed
            collected.fail(events, error)
        return None


def _read_result(events: list[QueuedEvent], response: httpx.Response, collected: _Collected) -> _Again | None:
    try:
        result = BatchResult.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        return _Again(events, 0.0, f"unreadable 202 answer: {exc}")
    collected.accepted.extend(result.accepted)
    collected.duplicates.extend(result.duplicates)
    answered = {*result.accepted, *result.duplicates}
    for rejection in result.rejected:
        errors = tuple(FieldError(e.field, e.message) for e in rejection.errors)
        event_id = _event_at(events, rejection.index, rejection.eventId)
        collected.rejected.append(RejectedEvent(event_id, rejection.index, errors))
        answered.add(event_id)
    later = [entry for entry in result.retry or [] if 0 <= entry.index < len(events)]
    again = [events[entry.index] for entry in later]
    answered.update(event.event_id for event in again)
    collected.fail(
        [e for e in events if e.event_id not in answered], "the server's answer did not mention it"
    )
    if not again:
        return None
    reasons = ", ".join(sorted({entry.reason for entry in later}))
    return _Again(again, max(entry.retryAfter for entry in later), f"server asked to retry ({reasons})")


def _event_at(events: list[QueuedEvent], index: int, event_id: str | None) -> str:
    if 0 <= index < len(events):
        return events[index].event_id
    return event_id or f"<index {index}>"


def _describe(response: httpx.Response) -> str:
    try:
        body = ErrorBody.model_validate(response.json())
    except (ValueError, ValidationError):
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return f"HTTP {response.status_code} {body.error}: {body.message}"


def _field_errors(response: httpx.Response) -> list[FieldError]:
    try:
        body = ErrorBody.model_validate(response.json())
    except (ValueError, ValidationError):
        return [FieldError("body", _describe(response))]
    return [FieldError(e.field, e.message) for e in body.errors or []] or [FieldError("body", body.message)]


def _retry_after_s(response: httpx.Response) -> float:
    """The Retry-After header in seconds (delta-seconds or an HTTP date); 0 when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds())
