"""Wire form of events and batches, serialised once so that batching can count exact bytes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from analytics_pipeline.timeutil import format_rfc3339, parse_rfc3339

SERVER_MAX_BATCH_EVENTS = 2_500
SERVER_MAX_BATCH_BYTES = 512_000


def encode_event(payload: dict[str, Any]) -> bytes:
    """Compact JSON; NaN and infinities are refused here because the server refuses them too."""
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"event {payload.get('eventId')!r} cannot be sent as JSON ({exc}); "
            "properties must hold only strings, finite numbers, booleans, None, lists and dicts"
        ) from exc
    return text.encode()


def encode_batch(events: list[bytes], sent_at: datetime) -> bytes:
    """The ``/v1/batch`` body around already-encoded events."""
    return b'{"events":[' + b",".join(events) + b'],"sentAt":"' + format_rfc3339(sent_at).encode() + b'"}'


def batch_overhead_bytes() -> int:
    """Bytes a batch body adds around its events: the envelope and ``sentAt``, commas excluded."""
    return len(encode_batch([], parse_rfc3339("2000-01-01T00:00:00Z")))


def wire_timestamp(value: datetime | str) -> str:
    """RFC 3339 in UTC with a ``Z``; a naive datetime is refused because its zone is a guess."""
    if isinstance(value, str):
        return format_rfc3339(parse_rfc3339(value))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"timestamp {value!r} has no time zone; pass an aware datetime, e.g. datetime.now(UTC)"
        )
    return format_rfc3339(value)
