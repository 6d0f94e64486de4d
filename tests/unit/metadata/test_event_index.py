"""The event index on SQLite (PostgreSQL in the integration tests): rows in, found by event and
by user, kept once, purged after the retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics_pipeline.metadata.event_index import EventIndex, IndexedEvent

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def row(event_id: str, user: str = "u1", minutes: int = 0, project: str = "shop") -> IndexedEvent:
    return IndexedEvent(project, event_id, "page_view", user, T0 + timedelta(minutes=minutes), T0, 0, minutes)


@pytest.fixture
def index(tmp_path: Path):
    index = EventIndex(f"sqlite:///{tmp_path / 'metadata.db'}")
    yield index
    index.close()


def test_an_event_is_found_by_its_id_with_utc_times(index: EventIndex):
    index.add([row("e1")])
    found = index.find("shop", "e1")
    assert found == row("e1")
    assert found.timestamp.tzinfo is not None
    assert index.find("blog", "e1") is None, "another project's eventId space"


def test_an_event_indexed_twice_keeps_its_first_row(index: EventIndex):
    index.add([row("e1", minutes=1)])
    index.add([row("e1", minutes=9), row("e2")])
    assert index.find("shop", "e1").offset == 1
    assert index.find("shop", "e2") is not None


def test_a_user_s_latest_events_come_newest_first(index: EventIndex):
    index.add([row(f"e{m}", minutes=m) for m in range(5)] + [row("x", user="u2")])
    assert [e.event_id for e in index.of_user("shop", "u1", 3)] == ["e4", "e3", "e2"]
    assert [e.event_id for e in index.of_user("shop", "u2", 10)] == ["x"]


def test_rows_received_before_the_cutoff_are_purged(index: EventIndex):
    old = IndexedEvent("shop", "old", "page_view", "u1", T0, T0 - timedelta(days=8), 0, 0)
    index.add([old, row("new")])
    assert index.purge(T0 - timedelta(days=7)) == 1
    assert index.find("shop", "old") is None
    assert index.find("shop", "new") is not None
