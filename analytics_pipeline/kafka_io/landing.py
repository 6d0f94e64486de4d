"""Did a record the producer gave up on land after all? Asked of the log itself.

A leader may have appended a record whose acknowledgement never came (a follower died before
it fetched it, the quorum went with two nodes): when the producer's delivery timeout expires,
the record's fate is unknown, and once the cluster is whole again it may well be committed.
Only then can the answer be read: the record's partition (the producer's murmur2 of its key),
from the time it was sent to the end.
"""

from __future__ import annotations

from kafka import TopicPartition
from kafka.partitioner.default import murmur2

from analytics_pipeline.kafka_io.admin import offsets_consumer, read_spans
from analytics_pipeline.kafka_io.replicas import replica_view


def partition_of(key: bytes, partitions: int) -> int:
    """The partition kafka-python's default partitioner (Java's) gives a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def landed_keys(
    bootstrap_servers: str, topic: str, keys: set[bytes], since_ms: int, timeout_s: float = 10.0
) -> set[bytes] | None:
    """The keys among ``keys`` written to ``topic`` at or after ``since_ms`` (record timestamps);
    None while a partition they belong to is not whole (its leader or a replica does not answer,
    or a replica is out of sync): its log may still hold more than it has committed."""
    view = replica_view(bootstrap_servers, [topic], timeout_s)
    partitions = {p.partition: p for p in view.partitions}
    if not partitions:
        return None
    wanted = {partition_of(key, len(partitions)) for key in keys}
    for number in wanted:
        p = partitions[number]
        whole = set(p.in_sync) == set(p.replicas) and set(p.replicas) <= view.reachable
        if not whole or p.leader not in view.reachable:
            return None
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        tps = [TopicPartition(topic, number) for number in sorted(wanted)]
        starts = consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
        ends = consumer.end_offsets(tps)
    spans = {
        (topic, tp.partition): (starts[tp].offset if starts.get(tp) else ends[tp], ends[tp]) for tp in tps
    }
    records = read_spans(bootstrap_servers, spans, timeout_s)
    last = {}
    for record in records:
        last[record.partition] = max(last.get(record.partition, -1), record.offset)
    if any(end > start and last.get(p, -1) < end - 1 for (_t, p), (start, end) in spans.items()):
        return None  # not read to the end in time: no answer yet
    return {record.key for record in records if record.key in keys}
