"""When to run the batch ETL, over which ranges, and how far its Kafka group may commit.

Pure decisions, kept apart from Dagster so they are tested alone:
- ``plan_batches``: from the sensor's cursor (the next offset per partition) and the topics' end
  offsets, the ranges of the runs to request now. A run is requested when the pending records
  reach the batch size, or when records have been pending for the max wait; no run covers more
  than ``max_records`` records, so a backlog becomes several runs.
- ``advance_commits``: the ``batch-etl`` group's offsets after some runs succeeded. An offset
  moves only through ranges that start at or before it, so a range whose run never succeeded
  holds back every commit after it, and Kafka's lag keeps showing it.
- A replay (``analytics replay --group batch-etl``) commits offsets marked ``replay@{time}``. The
  planner starts such a partition again from its committed offset, once per mark; and only runs
  created after the mark carry its commits forward (``succeeded_ranges(created_after=...)``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, TopicPartitionKey


@dataclass(frozen=True)
class PlannerCursor:
    """What the sensor keeps between ticks (as JSON in its cursor)."""

    next_offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)
    pending_since: datetime | None = None  # first tick that saw records no run was asked for
    replays: dict[TopicPartitionKey, str] = field(default_factory=dict)  # the replay marks acted on
    # where the planner stood when it acted on a partition's replay: ranges below it are read again
    replay_until: dict[TopicPartitionKey, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "next": {f"{t}/{p}": o for (t, p), o in sorted(self.next_offsets.items())},
                "pending_since": self.pending_since.isoformat() if self.pending_since else None,
                "replays": {f"{t}/{p}": stamp for (t, p), stamp in sorted(self.replays.items())},
                "replay_until": {f"{t}/{p}": o for (t, p), o in sorted(self.replay_until.items())},
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> PlannerCursor:
        if not text:
            return cls()
        data = json.loads(text)
        offsets = {_partition_key(name): int(offset) for name, offset in data.get("next", {}).items()}
        replays = {_partition_key(name): str(stamp) for name, stamp in data.get("replays", {}).items()}
        until = {_partition_key(name): int(o) for name, o in data.get("replay_until", {}).items()}
        since = data.get("pending_since")
        return cls(offsets, datetime.fromisoformat(since) if since else None, replays, until)

    def replay_stamps(self, run: Iterable[OffsetRange]) -> list[str]:
        """The replays a run reads records again for (its ranges start below where the planner
        stood when it acted on them): such a run takes only positions bronze lacks."""
        return sorted(
            {
                self.replays[(r.topic, r.partition)]
                for r in run
                if r.start < self.replay_until.get((r.topic, r.partition), -1)
            }
        )


def _partition_key(name: str) -> TopicPartitionKey:
    topic, _, partition = name.rpartition("/")
    return topic, int(partition)


@dataclass(frozen=True)
class BatchPolicy:
    batch_size: int  # pending records that trigger a run at once
    max_wait: timedelta  # longest a pending record waits for its run
    max_records: int  # most records one run reads


@dataclass(frozen=True)
class Plan:
    runs: list[list[OffsetRange]]
    cursor: PlannerCursor
    pending: int  # records past the cursor at this tick
    reason: str  # why runs were requested, or why not


def plan_batches(
    cursor: PlannerCursor,
    committed: Mapping[TopicPartitionKey, int],
    ends: Mapping[TopicPartitionKey, int],
    policy: BatchPolicy,
    now: datetime,
    *,
    replays: Mapping[TopicPartitionKey, str] | None = None,
) -> Plan:
    """The runs to request at ``now``; the cursor moves past every range requested. A partition
    with a replay mark not acted on yet starts again from its committed offset."""
    replays = dict(replays or {})
    rewound = {tp for tp, stamp in replays.items() if cursor.replays.get(tp) != stamp}
    until = {**cursor.replay_until}
    for tp in rewound:
        until[tp] = max(cursor.next_offsets.get(tp, 0), committed.get(tp, 0))
    starts = {
        tp: committed.get(tp, 0) if tp in rewound else cursor.next_offsets.get(tp, committed.get(tp, 0))
        for tp in ends
    }
    pending_ranges = sorted(
        OffsetRange(topic, partition, starts[(topic, partition)], end)
        for (topic, partition), end in ends.items()
        if end > starts[(topic, partition)]
    )
    pending = sum(r.count for r in pending_ranges)
    if not pending:
        return Plan(
            [],
            PlannerCursor({**cursor.next_offsets, **starts}, None, replays, until),
            0,
            "no pending records",
        )
    since = cursor.pending_since or now
    waited = now - since
    if pending < policy.batch_size and waited < policy.max_wait:
        reason = f"{pending} pending < batch size {policy.batch_size}, waiting {waited.total_seconds():.0f} s"
        return Plan(
            [], PlannerCursor({**cursor.next_offsets, **starts}, since, replays, until), pending, reason
        )
    runs = split_runs(pending_ranges, policy.max_records)
    next_offsets = {**cursor.next_offsets, **starts}
    for run in runs:
        for r in run:
            next_offsets[(r.topic, r.partition)] = r.end
    if pending >= policy.batch_size:
        reason = f"{pending} pending >= batch size {policy.batch_size}"
    else:
        reason = f"{pending} pending for {waited.total_seconds():.0f} s >= max wait"
    return Plan(runs, PlannerCursor(next_offsets, None, replays, until), pending, reason)


def split_runs(ranges: list[OffsetRange], max_records: int) -> list[list[OffsetRange]]:
    """Consecutive runs of at most ``max_records`` records each, in offset order per partition."""
    runs: list[list[OffsetRange]] = []
    current: list[OffsetRange] = []
    room = max_records
    for r in ranges:
        start = r.start
        while start < r.end:
            take = min(room, r.end - start)
            current.append(OffsetRange(r.topic, r.partition, start, start + take))
            start += take
            room -= take
            if room == 0:
                runs.append(current)
                current, room = [], max_records
    if current:
        runs.append(current)
    return runs


def advance_commits(
    committed: Mapping[TopicPartitionKey, int], succeeded: Iterable[OffsetRange]
) -> dict[TopicPartitionKey, int]:
    """The offsets to commit: each partition's offset carried through contiguous succeeded ranges.

    Returns only the partitions whose offset moves.
    """
    by_partition: dict[TopicPartitionKey, list[OffsetRange]] = {}
    for r in succeeded:
        by_partition.setdefault((r.topic, r.partition), []).append(r)
    moved = {}
    for tp, ranges in by_partition.items():
        offset = committed.get(tp, 0)
        for r in sorted(ranges):
            if r.start <= offset < r.end:
                offset = r.end
        if offset > committed.get(tp, 0):
            moved[tp] = offset
    return moved
