"""Where one event is: accepted (its Kafka position, from the event index), counted by the stream
worker (its ``processed:`` mark in Redis), and in the lake (validated, or quarantined and why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow.dataset as pads

from analytics_pipeline.metadata.event_index import IndexedEvent
from analytics_pipeline.query.sql_engine import QueryLimits, json_value, sealed_connection

VALIDATED, QUARANTINED, NOT_YET = "validated", "quarantined", "not in the lake yet"


@dataclass(frozen=True)
class LakeWhereabouts:
    status: str
    row: dict[str, Any]  # the lake's columns for the event (JSON-ready), empty when not there


def in_lake(
    events: pads.Dataset | None, quarantined: pads.Dataset | None, event_id: str, limits: QueryLimits
) -> LakeWhereabouts:
    """The event's validated row, else its quarantine rows' reasons, else not yet."""
    views = {name: view for name, view in (("events", events), ("quarantined_events", quarantined)) if view}
    connection = sealed_connection(views, limits)
    try:
        if events is not None:
            found = _first(
                connection,
                "SELECT eventDate, batchId, schemaVersion FROM events WHERE eventId = $id",
                event_id,
            )
            if found:
                return LakeWhereabouts(VALIDATED, found)
        if quarantined is not None and "eventId" in quarantined.schema.names:
            found = _first(
                connection,
                "SELECT stage, reason, problems, batchId FROM quarantined_events WHERE eventId = $id",
                event_id,
            )
            if found:
                return LakeWhereabouts(QUARANTINED, found)
        return LakeWhereabouts(NOT_YET, {})
    finally:
        connection.close()


def _first(connection: Any, sql: str, event_id: str) -> dict[str, Any]:
    cursor = connection.execute(sql, {"id": event_id})
    row = cursor.fetchone()
    if row is None:
        return {}
    return {column[0]: json_value(value) for column, value in zip(cursor.description, row, strict=True)}


def event_days(indexed: IndexedEvent | None) -> tuple[date, date] | None:
    """The partition to look in, when the index knows the event's time."""
    return (indexed.timestamp.date(), indexed.timestamp.date()) if indexed is not None else None
