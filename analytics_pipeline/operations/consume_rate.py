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
        """Records committed per second since the rate's start; none before a second sample, and
        none for a partition the group had not committed on then. A group moved back (a replay)
        counts as 0, not as a negative rate."""
        if len(self._samples) < 2:
            return {}
        (start, before), (end, after) = self._samples[0], self._samples[-1]
        return {
            key: max(0, offset - before[key]) / (end - start)
            for key, offset in after.items()
            if key in before
        }
