"""The contract of a record in a raw topic ``events.{project_id}``, as the ingestion service writes it.

One reading of a raw record for every consumer (the streaming worker, the lakehouse, the quality
checks), so that an event means the same thing everywhere. Only the ingestion service should
write raw topics; anything else that does (a replay tool, a misconfigured producer) is caught
here, and each breach is named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics_pipeline.events.envelope import EVENT_ID_PATTERN, EVENT_TYPE_PATTERN
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.timeutil import parse_rfc3339

REQUIRED_FIELDS = ("eventId", "eventType", "userId", "timestamp", "receivedAt", "properties", "projectId")
# Optional: the version of the type's property schema the event was accepted under (absent when
# the type had no schema then). Readers judge the properties by that version, never a newer one.
SCHEMA_VERSION_FIELD = "schemaVersion"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)


@dataclass(frozen=True)
class RawEvent:
    """A raw record that honours the contract, with the fields consumers need already parsed."""

    project_id: str
    event_id: str
    event_type: str
    user_id: str
    timestamp: datetime
    value: dict[str, Any]
    received_at: datetime
    schema_version: int | None = None


def parse_raw_record(topic: str, key: bytes | None, value: bytes | None) -> tuple[RawEvent | None, list[str]]:
    """The event, or None and what is wrong with the record (one phrase per breach)."""
    project_id = project_of_raw_topic(topic)
    if project_id is None:
        return None, ["topic is not a raw topic"]
    try:
        decoded = json.loads(value or b"")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None, ["value is not UTF-8 JSON"]
    if not isinstance(decoded, dict):
        return None, ["value is not a JSON object"]
    problems = [f"{name} missing" for name in REQUIRED_FIELDS if name not in decoded]
    if key is None or key.decode(errors="replace") != decoded.get("eventId"):
        problems.append("key is not the eventId")
    if "projectId" in decoded and decoded["projectId"] != project_id:
        problems.append("projectId does not match the topic")
    problems += _field_problems(decoded)
    timestamps = {}
    for name in ("timestamp", "receivedAt"):
        try:
            timestamps[name] = parse_rfc3339(decoded[name])
        except (KeyError, TypeError, ValueError):
            if name in decoded:
                problems.append(f"{name} is not RFC 3339")
    if problems:
        return None, problems
    event = RawEvent(
        project_id=project_id,
        event_id=decoded["eventId"],
        event_type=decoded["eventType"],
        user_id=decoded["userId"],
        timestamp=timestamps["timestamp"],
        value=decoded,
        received_at=timestamps["receivedAt"],
        schema_version=decoded.get(SCHEMA_VERSION_FIELD),
    )
    return event, []


def _field_problems(value: dict[str, Any]) -> list[str]:
    problems = []
    for name, pattern in (("eventId", _EVENT_ID), ("eventType", _EVENT_TYPE)):
        if name in value and not (isinstance(value[name], str) and pattern.fullmatch(value[name])):
            problems.append(f"{name} does not match {pattern.pattern}")
    user_id = value.get("userId", "-")
    if not isinstance(user_id, str) or not user_id:
        problems.append("userId is not a non-empty string")
    if "properties" in value and not isinstance(value["properties"], dict):
        problems.append("properties is not an object")
    version = value.get(SCHEMA_VERSION_FIELD, 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"{SCHEMA_VERSION_FIELD} is not a positive integer")
    return problems
