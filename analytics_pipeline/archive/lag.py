"""How far archival is behind Kafka: the oldest record no archive run has committed yet.

Kafka deletes raw records after 7 days whether or not they were archived, so archival must never
fall behind by more than a threshold (default 24 h) without someone hearing of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from analytics_pipeline.kafka_io.admin import read_spans, topic_offsets
from analytics_pipeline.lakehouse.offset_ranges import TopicPartitionKey


@dataclass(frozen=True)
class ArchiveLag:
    unarchived: int  # records past the group's committed offsets
    oldest: datetime | None  # Kafka timestamp of the oldest of them
    oldest_partition: TopicPartitionKey | None

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest).total_seconds()) if self.oldest else 0.0


def archive_lag(
    bootstrap_servers: str,
    ends: Mapping[TopicPartitionKey, int],
    committed: Mapping[TopicPartitionKey, int],
    timeout_s: float = 10.0,
) -> ArchiveLag:
    """Reads one record per lagging partition: the first one not archived."""
    firsts: dict[TopicPartitionKey, int] = {}
    for (topic, partition), end in ends.items():
        start = committed.get((topic, partition), 0)
        if end > start:
            firsts[(topic, partition)] = start
    if not firsts:
        return ArchiveLag(0, None, None)
    earliest = {
        (topic, p.partition): p.earliest
        for topic in {t for t, _ in firsts}
        for p in topic_offsets(bootstrap_servers, topic, timeout_s)
    }
    held = {
        tp: max(start, earliest.get(tp, start)) for tp, start in firsts.items()
    }  # retention may be past it
    spans = {tp: (first, first + 1) for tp, first in held.items() if first < ends[tp]}
    records = read_spans(bootstrap_servers, spans, timeout_s)
    unarchived = sum(ends[tp] - first for tp, first in held.items())
    if not records:
        return ArchiveLag(unarchived, None, None)
    oldest = min(records, key=lambda r: r.timestamp_ms)
    return ArchiveLag(
        unarchived, datetime.fromtimestamp(oldest.timestamp_ms / 1000, UTC), (oldest.topic, oldest.partition)
    )
