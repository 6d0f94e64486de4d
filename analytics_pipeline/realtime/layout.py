"""Where the real-time aggregates live in Redis, and how long they stay.

Per project, metric, granularity and window (start in UTC):

- ``metric:{project}:{metric}:{granularity}:{window}`` is a hash whose field ``count`` is the
  number of events (for ``all_events`` and each eventType);
- ``metric:{project}:{metric}:{granularity}:{window}:users`` is a HyperLogLog of the userIds
  (every metric, and the only key of ``active_users``);
- ``types:{project}:1h:{window}`` is the set of eventTypes counted in an hour window, so that a
  project's live types can be listed without scanning the keyspace (the console's chart by type);
- ``processed:{project}:{eventId}`` marks an event whose effect is already in the aggregates. It
  lives ``stream_processed_ttl_s`` at least, and as long as any window the event counted into:
  so a replay of the group (``analytics replay``) finds every counted event of a held window
  marked, and counts none of them twice.

A window's keys expire at an absolute time, ``window start + ttl_windows x width`` (the design's
"2 x the window"): after that the window is closed, and an event arriving for it later is not
counted there (it would resurrect a key holding a partial count; the lakehouse has the full one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics_pipeline.realtime.windows import Granularity, format_window

ALL_EVENTS = "all_events"
ACTIVE_USERS = "active_users"
COUNT_FIELD = "count"


@dataclass(frozen=True)
class MetricWindow:
    project_id: str
    metric: str
    granularity: Granularity
    start: datetime

    @property
    def key(self) -> str:
        return f"metric:{self.project_id}:{self.metric}:{self.granularity}:{format_window(self.start)}"

    @property
    def users_key(self) -> str:
        return f"{self.key}:users"

    @property
    def counts_events(self) -> bool:
        """``active_users`` has no event count of its own (it is ``all_events``' count)."""
        return self.metric != ACTIVE_USERS

    def expires_at(self, ttl_windows: float) -> datetime:
        return self.start + timedelta(seconds=self.granularity.seconds * ttl_windows)


TYPES_GRANULARITY = Granularity.HOUR  # the one granularity whose windows keep a set of types


def event_types_key(project_id: str, start: datetime) -> str:
    return f"types:{project_id}:{TYPES_GRANULARITY}:{format_window(start)}"


def metrics_of(event_type: str) -> tuple[str, ...]:
    """The metrics one event of this type updates.

    An eventType named like a built-in metric (``all_events``, ``active_users``) is counted in
    the built-in metric only, never twice under one key.
    """
    if event_type in (ALL_EVENTS, ACTIVE_USERS):
        return (ALL_EVENTS, ACTIVE_USERS)
    return (ALL_EVENTS, event_type, ACTIVE_USERS)


def processed_key(project_id: str, event_id: str) -> str:
    return f"processed:{project_id}:{event_id}"
