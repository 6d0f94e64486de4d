"""How fast each group consumed over the last minute, from committed offsets sampled over time.

Kafka keeps no history of a group's commits (unlike a partition's end offset, which
offsets-for-times can date), so the rate needs samples of our own: the exporter's polls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from analytics_pipeline.operations.group_lag import RATE_WINDOW_S

GroupPartition = tuple[str, str, int]  # (group, topic, partition)


class CommittedHistory:
    """The samples of the last ``window_s``, plus the newest one older than that (the rate's start)."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self._window_s = window_s
        self._samples: deque[tuple[float, dict[GroupPartition, int]]] = deque()

    def add(self, now: float, committed: Mapping[GroupPartition, int]) -> None:
        self._samples.append((now, dict(committed)))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self._window_s:
            self._samples.popleft()

    def rates(self) -> dict[GroupPartition, float]:
        """Records committed per second, from the oldest sample that holds the partition (a group
        that began committing lately is measured from its first commit) to the newest; none
        before two samples hold it. A group moved back (a replay) counts 0, not a negative rate."""
        if not self._samples:
            return {}
        end, after = self._samples[-1]
        starts: dict[GroupPartition, tuple[float, int]] = {}
        for at, offsets in list(self._samples)[:-1]:
            for key, offset in offsets.items():
                starts.setdefault(key, (at, offset))
        return {
            key: max(0, after[key] - offset) / (end - at)
            for key, (at, offset) in starts.items()
            if key in after and end > at
        }
