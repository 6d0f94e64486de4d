"""What the indexer makes of a batch: a row per record that keeps the contract, and the offsets
to commit after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.indexing.indexer import batch_end_offsets, indexed_events

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = TimeWindow(max_future=timedelta(hours=1), max_age=timedelta(days=30))


def consumer_record(partition: int, offset: int, key: bytes | None, value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord("events.shop", partition, 0, offset, 0, 0, key, value, [], None, -1, -1, -1)


def accepted(event_id: str) -> tuple[bytes, bytes]:
    valid, errors = validate_event(
        {"eventId": event_id, "eventType": "signup", "userId": "u9"}, received_at=NOW, window=WINDOW
    )
    assert not errors
    record = kafka_record(valid, "shop", NOW)
    return record.key, record.value


def test_records_that_keep_the_contract_become_rows_others_are_skipped():
    records = [
        consumer_record(1, 40, *accepted("e1")),
        consumer_record(1, 41, b"junk", b"not json"),
        consumer_record(2, 7, *accepted("e2")),
    ]
    rows = indexed_events(records)
    assert [(r.project_id, r.event_id, r.user_id, r.partition, r.offset) for r in rows] == [
        ("shop", "e1", "u9", 1, 40),
        ("shop", "e2", "u9", 2, 7),
    ]
    assert rows[0].received_at == NOW


def test_the_commit_is_one_past_each_partition_s_last_record():
    records = [
        consumer_record(1, 40, None, None),
        consumer_record(1, 42, None, None),
        consumer_record(2, 7, None, None),
    ]
    offsets = batch_end_offsets(records)
    assert {tp: o.offset for tp, o in offsets.items()} == {
        TopicPartition("events.shop", 1): 43,
        TopicPartition("events.shop", 2): 8,
    }
