"""The worker's Kafka consumer: every raw topic, new ones included, offsets committed by hand."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION
from analytics_pipeline.kafka_io.topics import RAW_TOPIC_PATTERN
from analytics_pipeline.settings import Settings
from analytics_pipeline.streaming.membership import Membership
from analytics_pipeline.streaming.outputs import SourceRecord


def build_consumer(settings: Settings, client_id: str, membership: Membership) -> KafkaConsumer:
    """Pattern-subscribed, so a new project's topic is picked up at the next metadata refresh;
    read from the start of a topic the group has never committed on, so no early event is missed."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        api_version=KAFKA_API_VERSION,
        group_id=settings.stream_group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        metadata_max_age_ms=int(settings.stream_topic_refresh_s * 1000),
        max_poll_records=settings.stream_max_batch,
        # A killed worker's partitions move to the others after this; the default is 45 s.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )
    consumer.subscribe(pattern=RAW_TOPIC_PATTERN, listener=membership)
    return consumer


def source_record(record: ConsumerRecord) -> SourceRecord:
    return SourceRecord(
        record.topic, record.partition, record.offset, record.timestamp, record.key, record.value
    )


def next_offsets(records: list[SourceRecord]) -> dict[TopicPartition, OffsetAndMetadata]:
    """What to commit after the batch: per partition, one past its last record."""
    last: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        last[tp] = max(last.get(tp, -1), record.offset)
    return {tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in last.items()}


def first_offsets(records: list[SourceRecord]) -> dict[TopicPartition, int]:
    """Where to seek back to when a batch must be polled again."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        first[tp] = min(first.get(tp, record.offset), record.offset)
    return first
