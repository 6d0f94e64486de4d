"""What a batch commits (one past each partition's last record) and where a retried batch seeks back to."""

from __future__ import annotations

from kafka import TopicPartition

from analytics_pipeline.streaming.consumer import first_offsets, next_offsets
from analytics_pipeline.streaming.outputs import SourceRecord


def record(topic: str, partition: int, offset: int) -> SourceRecord:
    return SourceRecord(topic, partition, offset, 1_700_000_000_000, b"k", b"{}")


# Two topics, the same partition number in both, offsets out of order and with gaps.
BATCH = [
    record("events.shop", 0, 7),
    record("events.shop", 1, 3),
    record("events.blog", 0, 41),
    record("events.shop", 0, 5),
    record("events.shop", 1, 9),
    record("events.blog", 0, 40),
    record("events.shop", 0, 12),
    record("events.shop", 1, 4),
]


def test_next_offsets_are_one_past_the_last_record_of_each_partition():
    committed = next_offsets(BATCH)
    assert {tp: meta.offset for tp, meta in committed.items()} == {
        TopicPartition("events.shop", 0): 13,
        TopicPartition("events.shop", 1): 10,
        TopicPartition("events.blog", 0): 42,
    }


def test_next_offsets_carry_no_metadata_and_no_leader_epoch():
    (meta,) = next_offsets([record("events.shop", 2, 0)]).values()
    assert (meta.offset, meta.metadata, meta.leader_epoch) == (1, "", -1)


def test_first_offsets_are_the_smallest_of_each_partition():
    assert first_offsets(BATCH) == {
        TopicPartition("events.shop", 0): 5,
        TopicPartition("events.shop", 1): 3,
        TopicPartition("events.blog", 0): 40,
    }


def test_offset_zero_is_kept():
    records = [record("events.shop", 0, 1), record("events.shop", 0, 0)]
    assert first_offsets(records) == {TopicPartition("events.shop", 0): 0}
    assert next_offsets(records)[TopicPartition("events.shop", 0)].offset == 2


def test_an_empty_batch_commits_nothing():
    assert next_offsets([]) == {}
    assert first_offsets([]) == {}
