"""The Kafka record of an accepted event: key = eventId, value = the event plus what the
service adds (projectId, receivedAt, corrected timestamp)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from analytics_pipeline.events.envelope import FieldError, ValidEvent
from analytics_pipeline.events.raw_record import SCHEMA_VERSION_FIELD
from analytics_pipeline.kafka_io.producer import OutgoingRecord
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import format_rfc3339


def event_value(
    valid: ValidEvent, project_id: str, received_at: datetime, schema_version: int | None = None
) -> dict[str, Any]:
    """``schemaVersion`` names the property schema the event was accepted under, so every later
    reader judges it by that version, whatever was registered since."""
    event = valid.event
    value: dict[str, Any] = {
        "eventId": event.eventId,
        "eventType": event.eventType,
        "userId": event.userId,
        "timestamp": format_rfc3339(valid.timestamp),
        "properties": event.properties,
        "projectId": project_id,
        "receivedAt": format_rfc3339(received_at),
    }
    if valid.original_timestamp is not None:
        value["originalTimestamp"] = format_rfc3339(valid.original_timestamp)
    if valid.sent_at is not None:
        value["sentAt"] = format_rfc3339(valid.sent_at)
    if event.context is not None:
        value["context"] = event.context
    if schema_version is not None:
        value[SCHEMA_VERSION_FIELD] = schema_version
    return value


class UnencodableEvent(ValueError):
    """The event holds text that UTF-8 cannot carry (an unpaired surrogate such as \\ud800)."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.error = error


def kafka_record(
    valid: ValidEvent, project_id: str, received_at: datetime, *, schema_version: int | None = None
) -> OutgoingRecord:
    """The record as UTF-8 JSON; ``UnencodableEvent`` if the event cannot be written as such.

    JSON may escape lone UTF-16 surrogates ("\\ud800"), which Python's parser accepts but no
    UTF-8 consumer can read, so such events are refused here rather than poisoning the topic.
    """
    value = event_value(valid, project_id, received_at, schema_version)
    try:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise UnencodableEvent(FieldError("body", "contains an unpaired UTF-16 surrogate escape")) from exc
    return OutgoingRecord(topic=raw_topic(project_id), key=valid.event.eventId.encode(), value=encoded)
