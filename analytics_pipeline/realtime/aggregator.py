"""One batch of events into the real-time aggregates, atomically and exactly once in effect."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Protocol

import redis

from analytics_pipeline.realtime.layout import (
    ACTIVE_USERS,
    ALL_EVENTS,
    TYPES_GRANULARITY,
    MetricWindow,
    event_types_key,
    metrics_of,
    processed_key,
)
from analytics_pipeline.realtime.windows import Granularity, window_start

_SCRIPT = files("analytics_pipeline.realtime").joinpath("apply_batch.lua").read_text()


class AggregatedEvent(Protocol):
    """What the aggregates need of an event (``RawEvent`` has it)."""

    @property
    def project_id(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...


@dataclass(frozen=True)
class WindowSnapshot:
    """A window's value right after the batch; ``count`` is None for ``active_users``."""

    window: MetricWindow
    count: int | None
    unique_users: int


@dataclass(frozen=True)
class BatchEffect:
    total: int
    duplicates: frozenset[int]  # indices of events another record already counted
    replays: frozenset[int]  # indices of events this same record already counted (a redelivery)
    snapshots: list[WindowSnapshot]  # every open window the batch touched, as it stands now
    closed: Counter[Granularity]  # events not counted at a granularity: their window had expired

    @property
    def applied(self) -> int:
        return self.total - len(self.duplicates) - len(self.replays)


class RealtimeAggregator:
    """Builds the script's payload from the events and runs it (one Redis round trip per batch)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_windows: float,
        processed_ttl_s: int,
        granularities: Sequence[Granularity] = tuple(Granularity),
    ) -> None:
        self._client = client
        self._script = client.register_script(_SCRIPT)
        self._ttl_windows = ttl_windows
        self._processed_ttl_s = processed_ttl_s
        self._granularities = tuple(granularities)

    def apply(self, events: Sequence[AggregatedEvent], positions: Sequence[str]) -> BatchEffect:
        """``positions[i]`` names where event i was read (``partition@offset``): what its mark holds."""
        if not events:
            return BatchEffect(0, frozenset(), frozenset(), [], Counter())
        windows: list[MetricWindow] = []
        window_index: dict[MetricWindow, int] = {}
        group_index: dict[tuple[str, str, int], int] = {}
        groups: list[list[int]] = []
        payload_events = []
        for event, position in zip(events, positions, strict=True):
            group_key = (event.project_id, event.event_type, int(event.timestamp.timestamp()) // 60)
            group = group_index.get(group_key)
            if group is None:
                members = []
                for window in self._windows_of(event):
                    if window not in window_index:
                        window_index[window] = len(windows) + 1  # Lua is 1-based
                        windows.append(window)
                    members.append(window_index[window])
                groups.append(members)
                group = group_index[group_key] = len(groups)
            key = processed_key(event.project_id, event.event_id)
            payload_events.append([key, event.user_id, group, position])
        payload = {
            "ttl": self._processed_ttl_s,
            "keys": [self._key_spec(w) for w in windows],
            "groups": groups,
            "events": payload_events,
        }
        duplicates, replays, counts, uniques, closed = self._script(
            args=[json.dumps(payload, separators=(",", ":"))]
        )
        snapshots, refused = [], Counter[Granularity]()
        for window, count, unique, skipped in zip(windows, counts, uniques, closed, strict=True):
            if skipped and window.metric == ALL_EVENTS:
                refused[window.granularity] += int(skipped)
            if count >= 0:
                snapshots.append(
                    WindowSnapshot(window, int(count) if window.counts_events else None, int(unique))
                )
        return BatchEffect(
            len(events),
            frozenset(int(i) for i in duplicates),
            frozenset(int(i) for i in replays),
            snapshots,
            refused,
        )

    def _key_spec(self, window: MetricWindow) -> list[str | int]:
        """The window's keys for the script: count (or ""), users, expiry; an eventType's hour
        window also names the hour's set of types and its member."""
        spec: list[str | int] = [
            window.key if window.counts_events else "",
            window.users_key,
            int(window.expires_at(self._ttl_windows).timestamp()),
        ]
        if window.granularity is TYPES_GRANULARITY and window.metric not in (ALL_EVENTS, ACTIVE_USERS):
            spec += [event_types_key(window.project_id, window.start), window.metric]
        return spec

    def _windows_of(self, event: AggregatedEvent) -> list[MetricWindow]:
        return [
            MetricWindow(event.project_id, metric, granularity, window_start(event.timestamp, granularity))
            for granularity in self._granularities
            for metric in metrics_of(event.event_type)
        ]
