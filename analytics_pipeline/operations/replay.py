"""`analytics replay`: move a consumer group's committed offsets on one project's raw topic back
(or forward), so the group reads those records again.

Targets are resolved the way Kafka's own tooling does (offsets-for-times for a datetime, the log
start for ``--to-earliest``, the committed offset plus N for ``--shift``), clamped to what the
partition still holds. A group with live members is refused: its members would overwrite the new
offsets with their next commit. Each commit carries ``replay@{time}`` as its metadata, which is how
the Dagster sensors that own ``batch-etl`` tell a replay from their own commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from analytics_pipeline.kafka_io.admin import admin_client, offsets_consumer
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import format_rfc3339, utc_now

REPLAY_MARK = "replay@"


class ReplayRefused(Exception):
    """The replay cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class ReplayTarget:
    """Exactly one of: a datetime, the earliest offset held, or a shift from the committed offset."""

    to_datetime: datetime | None = None
    to_earliest: bool = False
    shift: int | None = None

    def __post_init__(self) -> None:
        chosen = (self.to_datetime is not None) + self.to_earliest + (self.shift is not None)
        if chosen != 1:
            raise ReplayRefused("choose exactly one of --to-datetime, --to-earliest, --shift")


@dataclass(frozen=True)
class OffsetMove:
    topic: str
    partition: int
    before: int | None  # None: the group never committed here
    after: int
    earliest: int
    end: int

    @property
    def replayed(self) -> int:
        """Records the group will read again (negative: records it will skip)."""
        return (self.before if self.before is not None else self.earliest) - self.after

    def as_json(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "before": self.before,
            "after": self.after,
            "earliest": self.earliest,
            "end": self.end,
            "replayed": self.replayed,
        }


def replay_stamp(metadata: str) -> str | None:
    """The time of the replay a commit's metadata names, if it names one."""
    return metadata.removeprefix(REPLAY_MARK) if metadata.startswith(REPLAY_MARK) else None


def active_members(bootstrap_servers: str, group: str, timeout_s: float = 10.0) -> list[str]:
    """``client_id@host`` of each live member of the group."""
    with admin_client(bootstrap_servers, timeout_s) as admin:
        described = admin.describe_groups([group]).get(group, {})
    return [f"{m.get('client_id', '?')}@{m.get('client_host', '?')}" for m in described.get("members") or []]


def plan_replay(
    bootstrap_servers: str, group: str, project_id: str, target: ReplayTarget
) -> list[OffsetMove]:
    """Where each partition of the project's raw topic would move; nothing is committed."""
    topic = raw_topic(project_id)
    with offsets_consumer(bootstrap_servers) as consumer:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ReplayRefused(f"no topic {topic}: is {project_id!r} a project?")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        earliest, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        at_time = {}
        if target.to_datetime is not None:
            millis = int(target.to_datetime.timestamp() * 1000)
            at_time = consumer.offsets_for_times(dict.fromkeys(tps, millis))
    with admin_client(bootstrap_servers) as admin:
        committed = admin.list_group_offsets({group: None}).get(group, {})
    moves = []
    for tp in tps:
        before = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None
        if target.to_earliest:
            wanted = earliest[tp]
        elif target.shift is not None:
            wanted = (before if before is not None else earliest[tp]) + target.shift
        else:
            found = at_time.get(tp)
            wanted = found.offset if found is not None else ends[tp]
        after = min(max(wanted, earliest[tp]), ends[tp])
        moves.append(OffsetMove(topic, tp.partition, before, after, earliest[tp], ends[tp]))
    return moves


def apply_replay(bootstrap_servers: str, group: str, moves: list[OffsetMove]) -> str:
    """Commit the moves for a group without live members; the replay's stamp."""
    members = active_members(bootstrap_servers, group)
    if members:
        raise ReplayRefused(
            f"group {group} has {len(members)} active member(s) ({', '.join(members[:5])}): stop them "
            "first (for stream-processing: `analytics stack down` or stop the stream workers), then replay"
        )
    stamp = format_rfc3339(utc_now())
    request = {
        TopicPartition(m.topic, m.partition): OffsetAndMetadata(m.after, f"{REPLAY_MARK}{stamp}", -1)
        for m in moves
    }
    with admin_client(bootstrap_servers) as admin:
        errors = admin.alter_group_offsets(group, request)
    failed = {f"{tp.topic}/{tp.partition}": e.__name__ for tp, e in errors.items() if e.__name__ != "NoError"}
    if failed:
        raise ReplayRefused(f"Kafka refused the new offsets of group {group}: {failed}")
    return stamp
