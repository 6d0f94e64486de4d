"""Did a record the producer gave up on land after all? Asked of the log itself.

A leader may have appended a record whose acknowledgement never came (a follower died before
it fetched it, the quorum went with two nodes): when the producer's delivery timeout expires,
the record's fate is unknown, and once the followers are back it may well be committed. The
answer is final only once everything the leader has appended is committed: its log end (asked
as a debugging replica, which Kafka answers with the log end, committed or not) at or below the
high watermark a consumer reads up to. Then the record's partition (the producer's murmur2 of
its key) is read from the time it was sent to that end. Whatever a leader of an older epoch
still holds beyond it is truncated when that node comes back, and never read.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka import errors as Errors
from kafka.admin import OffsetSpec
from kafka.partitioner.default import murmur2
from kafka.protocol.consumer.offsets import ListOffsetsRequest

from analytics_pipeline.kafka_io.admin import admin_client, offsets_consumer, read_spans
from analytics_pipeline.kafka_io.replicas import replica_view

# ListOffsets from this replica id is answered by any replica, with its log end offset.
_DEBUGGING_REPLICA_ID = -2


@dataclass(frozen=True)
class _End:
    offset: int
    leader_epoch: int


def partition_of(key: bytes, partitions: int) -> int:
    """The partition kafka-python's default partitioner (Java's) gives a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def landed_keys(
    bootstrap_servers: str, topic: str, keys: set[bytes], since_ms: int, timeout_s: float = 10.0
) -> set[bytes] | None:
    """The keys among ``keys`` written to ``topic`` at or after ``since_ms`` (record timestamps);
    None while that cannot be known yet: a partition they belong to has no leader that answers,
    or holds records its followers have not all got (they would be committed later)."""
    view = replica_view(bootstrap_servers, [topic], timeout_s)
    partitions = {p.partition: p for p in view.partitions}
    if not partitions:
        return None
    wanted = {partition_of(key, len(partitions)) for key in keys}
    leaders = {number: partitions[number].leader for number in wanted}
    if any(leader not in view.reachable for leader in leaders.values()):
        return None
    tps = {number: TopicPartition(topic, number) for number in sorted(wanted)}
    with admin_client(bootstrap_servers, timeout_s) as admin:
        ends = _log_ends(admin, topic, leaders)
        if not _committed_up_to(admin, ends, timeout_s=min(timeout_s, 3.0)):
            return None
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        starts = consumer.offsets_for_times(dict.fromkeys(tps.values(), since_ms))
    spans = {
        (topic, tp.partition): (starts[tp].offset if starts.get(tp) else ends[tp].offset, ends[tp].offset)
        for tp in tps.values()
    }
    records = read_spans(bootstrap_servers, spans, timeout_s)
    last = {}
    for record in records:
        last[record.partition] = max(last.get(record.partition, -1), record.offset)
    if any(end > start and last.get(p, -1) < end - 1 for (_t, p), (start, end) in spans.items()):
        return None  # not read to the end in time: no answer yet
    return {record.key for record in records if record.key in keys}


def _committed_up_to(admin: KafkaAdminClient, ends: dict[TopicPartition, _End], timeout_s: float) -> bool:
    """Whether each partition's high watermark reaches ``ends`` under the same leader within
    ``timeout_s`` (the followers fetch what the leader appended a moment before)."""
    deadline = time.monotonic() + timeout_s
    while True:
        committed = admin.list_partition_offsets(dict.fromkeys(ends, OffsetSpec.LATEST))
        if all(
            committed[tp].offset >= end.offset and _epoch(committed[tp].leader_epoch) == end.leader_epoch
            for tp, end in ends.items()
        ):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def _epoch(leader_epoch: int | None) -> int:
    return -1 if leader_epoch is None else leader_epoch


def _log_ends(admin: KafkaAdminClient, topic: str, leaders: dict[int, int]) -> dict[TopicPartition, _End]:
    """Each partition's log end on its leader (``leaders``: partition -> node), uncommitted
    records included. kafka-python has no public call for a ListOffsets as a debugging replica,
    so it goes through the admin client's connection manager (kafka-python is pinned)."""
    by_leader: dict[int, list[int]] = defaultdict(list)
    for partition, leader in leaders.items():
        by_leader[leader].append(partition)
    topic_type = ListOffsetsRequest.ListOffsetsTopic
    partition_type = topic_type.ListOffsetsPartition
    ends: dict[TopicPartition, _End] = {}
    for leader, partitions in by_leader.items():
        request = ListOffsetsRequest(
            replica_id=_DEBUGGING_REPLICA_ID,
            isolation_level=0,
            topics=[
                topic_type(
                    name=topic,
                    partitions=[
                        partition_type(partition_index=p, timestamp=OffsetSpec.LATEST) for p in partitions
                    ],
                )
            ],
            min_version=1,
        )

        async def send(request: ListOffsetsRequest = request, node_id: int = leader):
            return await admin._manager.send(request, node_id=node_id)

        response = admin._manager.run(send)
        for answered in response.topics:
            for p in answered.partitions:
                error = Errors.for_code(p.error_code)
                if error is not Errors.NoError:
                    raise error(f"ListOffsets of {topic}/{p.partition_index} on node {leader}")
                ends[TopicPartition(topic, p.partition_index)] = _End(p.offset, p.leader_epoch)
    return ends
