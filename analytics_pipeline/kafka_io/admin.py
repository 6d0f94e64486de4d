"""Topic creation and offset inspection over kafka-python's admin and consumer clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka import errors as Errors
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from analytics_pipeline.kafka_io.topics import TopicSpec, project_of_raw_topic

# Pinning the protocol version lets clients be built while no broker answers (kafka-python 3
# otherwise blocks up to 30 s to probe it); every Kafka 4.x broker speaks it.
KAFKA_API_VERSION = (4, 0)

T = TypeVar("T")


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = -1  # the record's Kafka timestamp
    timestamp_type: int = -1  # 0: CreateTime, 1: LogAppendTime
    headers: tuple[tuple[str, bytes | None], ...] = ()


class IncompleteReadError(RuntimeError):
    """Kafka did not return every record of a span before the timeout."""


@dataclass(frozen=True)
class PartitionOffsets:
    partition: int
    earliest: int
    latest: int

    @property
    def messages(self) -> int:
        return self.latest - self.earliest


@contextmanager
def admin_client(bootstrap_servers: str, timeout_s: float = 10.0) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=int(timeout_s * 1000),
        bootstrap_timeout_ms=int(timeout_s * 1000),
        client_id="analytics-admin",
    )
    try:
        yield client
    finally:
        client.close()


def ensure_topics(bootstrap_servers: str, specs: list[TopicSpec], timeout_s: float = 10.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names it created."""
    created = []
    with admin_client(bootstrap_servers, timeout_s) as admin:
        existing = set(admin.list_topics())
        for spec in specs:
            if spec.name in existing:
                continue
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=spec.replication_factor,
                            topic_configs=spec.configs,
                        )
                    ]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
    return created


def add_partitions(bootstrap_servers: str, topic: str, total: int, timeout_s: float = 10.0) -> int:
    """Grow ``topic`` to ``total`` partitions; returns how many it had. Kafka cannot take
    partitions away, so a smaller ``total`` is refused (ValueError), an equal one changes nothing."""
    before = len(topic_offsets(bootstrap_servers, topic, timeout_s))
    if not before:
        raise ValueError(f"topic {topic} does not exist")
    if total < before:
        raise ValueError(f"{topic} has {before} partitions; Kafka cannot reduce them to {total}")
    if total > before:
        with admin_client(bootstrap_servers, timeout_s) as admin:
            admin.create_partitions({topic: NewPartitions(total_count=total)})
    return before


def describe_topic_configs(bootstrap_servers: str, topic: str) -> dict[str, str]:
    """The topic's non-default configuration, as the broker reports it."""
    with admin_client(bootstrap_servers) as admin:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    return {name: entry["value"] for name, entry in described["topic"][topic].items()}


@contextmanager
def offsets_consumer(bootstrap_servers: str, timeout_s: float = 10.0) -> Iterator[KafkaConsumer]:
    """A consumer in no group, used only to ask for offsets."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=int(timeout_s * 1000),
        bootstrap_timeout_ms=int(timeout_s * 1000),
        client_id="analytics-offsets",
        enable_auto_commit=False,
    )
    try:
        yield consumer
    finally:
        consumer.close()


def raw_partition_end_offsets(bootstrap_servers: str, timeout_s: float = 10.0) -> dict[tuple[str, int], int]:
    """The latest offset of every partition of every raw topic (``events.{project_id}``)."""
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        partitions = raw_partitions(consumer)
        ends = consumer.end_offsets(partitions) if partitions else {}
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


def held_spans(
    bootstrap_servers: str, topics: Iterable[str], timeout_s: float = 10.0
) -> dict[tuple[str, int], tuple[int, int]]:
    """[earliest, latest) of every partition of those ``topics`` that exist, asked of the
    cluster once for them all (one consumer, one request of each kind)."""
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        existing = consumer.topics()
        tps = [
            TopicPartition(topic, partition)
            for topic in sorted(set(topics) & existing)
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not tps:
            return {}
        earliest, latest = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
    return {(tp.topic, tp.partition): (earliest[tp], latest[tp]) for tp in tps}


def raw_partitions(consumer: KafkaConsumer) -> list[TopicPartition]:
    """Every partition of every raw topic (``events.{project_id}``) the consumer's cluster holds."""
    return [
        TopicPartition(topic, partition)
        for topic in sorted(consumer.topics())
        if project_of_raw_topic(topic)
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]


def raw_topic_end_offsets(bootstrap_servers: str, timeout_s: float = 10.0) -> dict[str, int]:
    """Per raw topic (``events.{project_id}``), the sum of its partitions' latest offsets."""
    totals: dict[str, int] = {}
    for (topic, _partition), offset in raw_partition_end_offsets(bootstrap_servers, timeout_s).items():
        totals[topic] = totals.get(topic, 0) + offset
    return totals


def topic_offsets(bootstrap_servers: str, topic: str, timeout_s: float = 10.0) -> list[PartitionOffsets]:
    """Earliest and latest offset of every partition of the topic."""
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        earliest = consumer.beginning_offsets(tps)
        latest = consumer.end_offsets(tps)
        return [PartitionOffsets(tp.partition, earliest[tp], latest[tp]) for tp in tps]


def tail_records(
    bootstrap_servers: str, topics: Iterable[str], per_partition: int, timeout_s: float = 10.0
) -> list[TopicRecord]:
    """The last ``per_partition`` records of every partition of ``topics``: a sample of the newest
    events, read by one consumer however many topics there are."""
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        tps = [
            TopicPartition(topic, p)
            for topic in sorted(set(topics))
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return _tails(consumer, tps, per_partition, timeout_s)


def partition_tails(
    bootstrap_servers: str, partitions: Iterable[tuple[str, int]], per_partition: int, timeout_s: float = 10.0
) -> list[TopicRecord]:
    """The last ``per_partition`` records (those retention still holds) of each (topic, partition)."""
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        return _tails(
            consumer, [TopicPartition(t, p) for t, p in sorted(set(partitions))], per_partition, timeout_s
        )


def _tails(
    consumer: KafkaConsumer, tps: list[TopicPartition], per_partition: int, timeout_s: float
) -> list[TopicRecord]:
    if not tps:
        return []
    earliest, latest = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
    spans = {tp: (max(earliest[tp], latest[tp] - per_partition), latest[tp]) for tp in tps}
    return _read_spans(consumer, spans, timeout_s)


def read_spans(
    bootstrap_servers: str, spans: Mapping[tuple[str, int], tuple[int, int]], timeout_s: float = 10.0
) -> list[TopicRecord]:
    """The records at offsets ``[start, end)`` of each (topic, partition), read by one consumer."""
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        return _read_spans(
            consumer, {TopicPartition(t, p): span for (t, p), span in spans.items()}, timeout_s
        )


def _read_spans(
    consumer: KafkaConsumer, spans: Mapping[TopicPartition, tuple[int, int]], timeout_s: float
) -> list[TopicRecord]:
    spans = {tp: (start, end) for tp, (start, end) in spans.items() if end > start}
    if not spans:
        return []
    consumer.assign(list(spans))
    for tp, (start, _end) in spans.items():
        consumer.seek(tp, start)
    records: list[TopicRecord] = []
    deadline = time.monotonic() + timeout_s
    while any(consumer.position(tp) < end for tp, (_s, end) in spans.items()) and time.monotonic() < deadline:
        for tp, batch in consumer.poll(timeout_ms=200).items():
            end = spans[tp][1]
            records.extend(
                TopicRecord(
                    r.topic,
                    r.partition,
                    r.offset,
                    r.key,
                    r.value,
                    r.timestamp,
                    r.timestamp_type,
                    tuple((name, value) for name, value in r.headers or ()),
                )
                for r in batch
                if r.offset < end
            )
    return records


def read_span_whole(
    bootstrap_servers: str, topic: str, partition: int, start: int, end: int, *, timeout_s: float = 30.0
) -> tuple[list[TopicRecord], int]:
    """Every record still held at offsets ``[start, end)`` of one partition, and how many of them
    retention had already deleted (offsets below the log start); raises if the read falls short."""
    tp = TopicPartition(topic, partition)
    with offsets_consumer(bootstrap_servers, timeout_s) as consumer:
        earliest = consumer.beginning_offsets([tp])[tp]
        first = max(start, earliest)
        records = _read_spans(consumer, {tp: (first, end)}, timeout_s) if end > first else []
    if records and (records[0].offset < first or records[-1].offset != end - 1):
        raise IncompleteReadError(f"{topic}/{partition}: read {len(records)} records of [{first}, {end})")
    if end > first and not records:
        raise IncompleteReadError(
            f"{topic}/{partition}: no records of [{first}, {end}) within {timeout_s:g} s"
        )
    return records, min(first, end) - start


def committed_offsets(
    bootstrap_servers: str, group: str, timeout_s: float = 10.0
) -> dict[TopicPartition, int]:
    """The group's committed offset per partition (what it will read next), as Kafka tooling shows it."""
    with admin_client(bootstrap_servers, timeout_s) as admin:
        return group_offsets(admin, group, timeout_s)


def group_offsets(admin: KafkaAdminClient, group: str, timeout_s: float) -> dict[TopicPartition, int]:
    """``committed_offsets`` through an admin client the caller keeps."""
    return {tp: offset for tp, (offset, _metadata) in group_commits(admin, group, timeout_s).items()}


def committed_with_metadata(
    bootstrap_servers: str, group: str, timeout_s: float = 10.0
) -> dict[TopicPartition, tuple[int, str]]:
    """The group's committed offset per partition and the metadata string stored with it."""
    with admin_client(bootstrap_servers, timeout_s) as admin:
        return group_commits(admin, group, timeout_s)


def group_commits(
    admin: KafkaAdminClient, group: str, timeout_s: float
) -> dict[TopicPartition, tuple[int, str]]:
    """A new cluster creates its offsets topic on first use, so a retriable refusal is asked
    again until the timeout."""
    offsets = _until_answered(lambda: admin.list_group_offsets({group: None}).get(group, {}), timeout_s)
    return {tp: (meta.offset, meta.metadata or "") for tp, meta in offsets.items() if meta.offset >= 0}


def _until_answered(call: Callable[[], T], timeout_s: float) -> T:
    """``call()``, asked again after a retriable refusal (no group coordinator yet) until the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except Errors.KafkaError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class OffsetCommitError(RuntimeError):
    """Kafka refused to store some of a group's offsets."""


def commit_group_offsets(
    bootstrap_servers: str,
    group: str,
    offsets: dict[tuple[str, int], int],
    timeout_s: float = 10.0,
    metadata: Mapping[tuple[str, int], str] | None = None,
) -> None:
    """Store offsets for a group that has no live members (a batch job's group), as tooling does,
    each with its metadata string (empty unless given); on a new cluster, once its offsets topic
    exists."""
    if not offsets:
        return
    notes = metadata or {}
    request = {
        TopicPartition(t, p): OffsetAndMetadata(o, notes.get((t, p), ""), -1) for (t, p), o in offsets.items()
    }
    with admin_client(bootstrap_servers, timeout_s) as admin:
        errors = _until_answered(lambda: _alter_offsets(admin, group, request), timeout_s)
    failed = {f"{tp.topic}/{tp.partition}": e.__name__ for tp, e in errors.items() if e is not Errors.NoError}
    if failed:
        raise OffsetCommitError(f"group {group} refused offsets: {failed}")


def _alter_offsets(
    admin: KafkaAdminClient, group: str, request: dict[TopicPartition, OffsetAndMetadata]
) -> dict[TopicPartition, type[Errors.KafkaError]]:
    """Per partition, the broker's answer; a retriable one (the coordinator still loading) raised."""
    errors = admin.alter_group_offsets(group, request)
    retriable = [e for e in errors.values() if e is not Errors.NoError and e.retriable]
    if retriable:
        raise retriable[0]()
    return errors


def group_progress(
    bootstrap_servers: str, topic: str, group: str, timeout_s: float = 10.0
) -> tuple[int, int]:
    """(records of ``topic`` the group has committed, records in the topic)."""
    ends = {o.partition: o.latest for o in topic_offsets(bootstrap_servers, topic, timeout_s)}
    done = {
        tp.partition: offset
        for tp, offset in committed_offsets(bootstrap_servers, group, timeout_s).items()
        if tp.topic == topic
    }
    return sum(min(done.get(p, 0), end) for p, end in ends.items()), sum(ends.values())
