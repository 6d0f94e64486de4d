"""Envelope validation of incoming events, with one error per offending field.

The pydantic models are the contract (they also feed the OpenAPI document); ``validate_event``
turns pydantic's errors into ``FieldError``s whose messages name the field and what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from analytics_pipeline.timeutil import parse_rfc3339

EVENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
RFC3339_EXAMPLE = "2026-11-26T12:00:00Z"

# Parsed by parse_rfc3339 (strictly), documented as what it is; pydantic only checks "string".
Rfc3339 = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date-time", "examples": [RFC3339_EXAMPLE]})
]


class EventIn(BaseModel):
    """One event as a client sends it (camelCase, as in the design)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    eventId: str = Field(pattern=EVENT_ID_PATTERN, description="Client-chosen id; retries reuse it.")
    eventType: str = Field(pattern=EVENT_TYPE_PATTERN, description="snake_case, e.g. add_to_cart.")
    userId: str = Field(min_length=1, max_length=256)
    timestamp: Rfc3339 | None = Field(None, description="RFC 3339; default: the receive time.")
    sentAt: Rfc3339 | None = Field(None, description="RFC 3339 send time; corrects the client's clock skew.")
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] | None = Field(None, description="Free-form client context, kept as sent.")


class BatchIn(BaseModel):
    """Several events in one request; ``sentAt`` applies to events without their own."""

    model_config = ConfigDict(strict=True, extra="forbid")

    events: list[Any] = Field(min_length=1, description="Events as for /v1/events; each judged alone.")
    sentAt: Rfc3339 | None = None


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class TimeWindow:
    """How far from the receive time an event's timestamp may lie."""

    max_future: timedelta
    max_age: timedelta


@dataclass(frozen=True)
class ValidEvent:
    """A validated event with its timestamps resolved, ready to be enriched and produced."""

    event: EventIn
    timestamp: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None


def pydantic_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for error in exc.errors(include_url=False):
        field = prefix + ".".join(str(part) for part in error["loc"]) if error["loc"] else prefix.rstrip(".")
        errors.append(FieldError(field or "body", _message(error)))
    return errors


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text (it holds an unpaired surrogate escape)",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "string_pattern_mismatch": "must match {pattern}",
    "string_too_short": "must have at least {min_length} character(s)",
    "string_too_long": "must have at most {max_length} characters",
    "too_short": "must have at least {min_length} item(s)",
}


def _message(error: Any) -> str:
    template = _MESSAGES.get(error["type"])
    return template.format(**(error.get("ctx") or {})) if template else str(error["msg"])


def parse_timestamp_field(field: str, value: str | None) -> tuple[datetime | None, FieldError | None]:
    if value is None:
        return None, None
    try:
        return parse_rfc3339(value), None
    except ValueError:
        return None, FieldError(field, f"must be an RFC 3339 date-time such as {RFC3339_EXAMPLE}")


def validate_event(
    raw: Any, *, received_at: datetime, window: TimeWindow, batch_sent_at: datetime | None = None
) -> tuple[ValidEvent | None, list[FieldError]]:
    """Check the envelope and resolve the event's timestamp; the errors name every bad field at once."""
    if not isinstance(raw, dict):
        return None, [FieldError("body", "must be a JSON object")]
    event, errors = None, []
    try:
        event = EventIn.model_validate(raw)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
    typed_wrong = {error.field for error in errors}
    timestamp, timestamp_error = _raw_time(raw, "timestamp", typed_wrong)
    sent_at, sent_at_error = _raw_time(raw, "sentAt", typed_wrong)
    time_errors = [error for error in (timestamp_error, sent_at_error) if error]
    errors += time_errors
    corrected = received_at
    if not time_errors and not typed_wrong & {"timestamp", "sentAt"}:
        corrected, window_error = _corrected_timestamp(
            timestamp, sent_at or batch_sent_at, received_at, window
        )
        errors += [window_error] if window_error else []
    if event is None or errors:
        return None, errors
    sent_at = sent_at or batch_sent_at
    original = timestamp if sent_at is not None else None
    return ValidEvent(event, corrected, original, sent_at), []


def _raw_time(
    raw: dict[str, Any], field: str, typed_wrong: set[str]
) -> tuple[datetime | None, FieldError | None]:
    """A time field parsed even when other fields failed; a non-string was already reported."""
    value = raw.get(field)
    if field in typed_wrong or not isinstance(value, str):
        return None, None
    return parse_timestamp_field(field, value)


def _corrected_timestamp(
    timestamp: datetime | None, sent_at: datetime | None, received_at: datetime, window: TimeWindow
) -> tuple[datetime, FieldError | None]:
    """Segment's clock-skew correction, then the window check.

    With ``sentAt``, the client's skew (``receivedAt - sentAt``) is added to the timestamp. The
    window applies to the corrected timestamp, since that is the one stored.
    """
    if timestamp is None:
        return received_at, None
    if sent_at is not None:
        try:
            timestamp = timestamp + (received_at - sent_at)
        except OverflowError:  # e.g. year 232 corrected by a sentAt in year 5787
            return received_at, FieldError("sentAt", "is too far from the timestamp to correct its skew")
    if timestamp - received_at > window.max_future:
        return timestamp, FieldError("timestamp", f"lies more than {_span(window.max_future)} in the future")
    if received_at - timestamp > window.max_age:
        return timestamp, FieldError("timestamp", f"lies more than {_span(window.max_age)} in the past")
    return timestamp, None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} day(s)"
    if seconds % 3_600 == 0:
        return f"{seconds // 3_600} hour(s)"
    return f"{seconds} second(s)"
