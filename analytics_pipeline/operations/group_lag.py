"""Per consumer group and raw-topic partition: end offset, committed offset, lag, events/s over
the last minute, and whether the partition is hot (lag above a multiple of its topic's average
lag in that group).

The rate needs no state: Kafka's offsets-for-times gives the offset a partition had a minute ago.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace

from analytics_pipeline.kafka_io.admin import admin_client, group_offsets, offsets_consumer, raw_partitions

RATE_WINDOW_S = 60.0
HOT_FACTOR = 2.0  # the design's: lag above twice the average


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    end: int
    committed: int | None  # None: the group never committed on this partition
    events_per_s: float  # records appended over the last minute, per second
    hot: bool = False

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "lag": self.lag}


@dataclass(frozen=True)
class TopicEnds:
    ends: dict[tuple[str, int], int]
    minute_ago: dict[tuple[str, int], int]  # the offset each partition had RATE_WINDOW_S ago

    def appended(self, tp: tuple[str, int]) -> int:
        """Records the partition received over the last RATE_WINDOW_S."""
        return self.ends[tp] - self.minute_ago.get(tp, self.ends[tp])

    def rate(self, tp: tuple[str, int]) -> float:
        return self.appended(tp) / RATE_WINDOW_S

    def of_topic(self, topic: str) -> TopicEnds:
        return TopicEnds(
            {tp: end for tp, end in self.ends.items() if tp[0] == topic},
            {tp: offset for tp, offset in self.minute_ago.items() if tp[0] == topic},
        )


def raw_topic_ends(bootstrap_servers: str, timeout_s: float = 10.0) -> TopicEnds:
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        tps = raw_partitions(consumer)
        if not tps:
            return TopicEnds({}, {})
        ends = consumer.end_offsets(tps)
        since = int((time.time() - RATE_WINDOW_S) * 1000)
        found = consumer.offsets_for_times(dict.fromkeys(tps, since))
    minute_ago = {
        (tp.topic, tp.partition): (found[tp].offset if found.get(tp) is not None else ends[tp]) for tp in tps
    }
    return TopicEnds({(tp.topic, tp.partition): ends[tp] for tp in tps}, minute_ago)


def committed_by_group(
    bootstrap_servers: str, groups: Iterable[str], timeout_s: float = 10.0
) -> dict[str, dict[tuple[str, int], int]]:
    with admin_client(bootstrap_servers, timeout_s) as admin:
        return {
            group: {(tp.topic, tp.partition): o for tp, o in group_offsets(admin, group, timeout_s).items()}
            for group in groups
        }


def group_lags(
    ends: TopicEnds,
    committed: Mapping[str, Mapping[tuple[str, int], int]],
    hot_factor: float = HOT_FACTOR,
    min_lag: int = 1,
) -> list[PartitionLag]:
    """Every (group, raw partition). A partition is hot when its lag is at least ``min_lag`` and
    above ``hot_factor`` times the average lag of its topic in that group: topics are projects of
    any size, so a partition is compared with its siblings. A topic the group never committed on
    has no hot partition: the group does not read it yet, every partition is equally behind."""
    rows = [
        PartitionLag(
            group, topic, partition, end, offsets.get((topic, partition)), ends.rate((topic, partition))
        )
        for group, offsets in committed.items()
        for (topic, partition), end in sorted(ends.ends.items())
    ]
    averages = topic_average_lags(rows)
    read = {(r.group, r.topic) for r in rows if r.committed is not None}
    return [
        replace(
            r,
            hot=(r.group, r.topic) in read
            and r.lag >= min_lag
            and r.lag > hot_factor * averages[(r.group, r.topic)],
        )
        for r in rows
    ]


def topic_average_lags(rows: Iterable[PartitionLag]) -> dict[tuple[str, str], float]:
    """(group, topic) -> the average lag of the topic's partitions in that group."""
    lags: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        lags.setdefault((r.group, r.topic), []).append(r.lag)
    return {key: sum(values) / len(values) for key, values in lags.items()}
