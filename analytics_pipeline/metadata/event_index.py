"""Per-event metadata in the metadata database: where each accepted event sits in Kafka, and a
user's latest events. Written in batches by the ``metadata-index`` consumer group, never on the
request path; an event indexed twice (a redelivered batch) keeps its first row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from analytics_pipeline.metadata.engine import create_metadata_engine, upsert_insert
from analytics_pipeline.metadata.tables import event_index


@dataclass(frozen=True)
class IndexedEvent:
    project_id: str
    event_id: str
    event_type: str
    user_id: str
    timestamp: datetime
    received_at: datetime
    partition: int
    offset: int


class EventIndex:
    def __init__(self, url: str) -> None:
        self._engine = create_metadata_engine(url)
        self._insert = upsert_insert(self._engine, "the event index")

    def add(self, events: Sequence[IndexedEvent]) -> None:
        """Index the events in one transaction; one already indexed keeps its row."""
        if not events:
            return
        statement = self._insert(event_index).on_conflict_do_nothing(
            index_elements=["project_id", "event_id"]
        )
        with self._engine.begin() as conn:
            conn.execute(statement, [asdict(e) for e in events])

    def find(self, project_id: str, event_id: str) -> IndexedEvent | None:
        query = select(event_index).where(
            event_index.c.project_id == project_id, event_index.c.event_id == event_id
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _indexed(row) if row else None

    def of_user(self, project_id: str, user_id: str, limit: int) -> list[IndexedEvent]:
        """The user's latest events by event time, newest first."""
        query = (
            select(event_index)
            .where(event_index.c.project_id == project_id, event_index.c.user_id == user_id)
            .order_by(event_index.c.timestamp.desc(), event_index.c.event_id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_indexed(row) for row in conn.execute(query)]

    def purge(self, received_before: datetime) -> int:
        """Forget events received before the instant (the retention); returns how many."""
        with self._engine.begin() as conn:
            return conn.execute(
                delete(event_index).where(event_index.c.received_at < received_before)
            ).rowcount

    def close(self) -> None:
        self._engine.dispose()


def _indexed(row: Any) -> IndexedEvent:
    """SQLite hands back naive datetimes: they were written in UTC."""
    fields = dict(row._mapping)
    for name in ("timestamp", "received_at"):
        if fields[name].tzinfo is None:
            fields[name] = fields[name].replace(tzinfo=UTC)
    return IndexedEvent(**fields)
