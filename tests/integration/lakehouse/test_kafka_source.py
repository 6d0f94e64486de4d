"""Spark's Kafka source reads exactly a batch's ranges, in one task for a few records and split
across tasks for many."""

from __future__ import annotations

import pytest

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse import kafka_source
from analytics_pipeline.lakehouse.kafka_source import read_ranges
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from tests.support.events import new_event
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration


@pytest.fixture
def ranges(stack_settings, make_project) -> list[OffsetRange]:
    """24 records over the partitions of a project's raw topic, as a batch's ranges."""
    project_id = make_project("source").project_id
    writer = RawWriter(stack_settings.kafka_bootstrap_servers)
    try:
        writer.events(project_id, [new_event() for _ in range(24)])
    finally:
        writer.close()
    topic = raw_topic(project_id)
    offsets = topic_offsets(stack_settings.kafka_bootstrap_servers, topic)
    return [OffsetRange(topic, o.partition, 0, o.latest) for o in offsets if o.latest > 0]


def positions(frame) -> list[tuple[int, int]]:
    return sorted((row.partition, row.offset) for row in frame.select("partition", "offset").collect())


def expected(ranges: list[OffsetRange]) -> list[tuple[int, int]]:
    return sorted((r.partition, offset) for r in ranges for offset in range(r.start, r.end))


def test_a_few_records_are_read_in_one_task(spark, stack_settings, ranges):
    assert len(ranges) > 1, "the records span several partitions"
    frame = read_ranges(spark, stack_settings.kafka_bootstrap_servers, ranges)
    assert frame.rdd.getNumPartitions() == 1
    assert positions(frame) == expected(ranges)


def test_many_records_are_split_across_tasks(spark, stack_settings, ranges, monkeypatch):
    monkeypatch.setattr(kafka_source, "RECORDS_PER_TASK", 4)  # 24 records: at least 6 tasks, on 2 cores
    frame = read_ranges(spark, stack_settings.kafka_bootstrap_servers, ranges)
    # Spark splits each partition's range in proportion and rounds up: 8, 10 and 6 records made 7
    assert frame.rdd.getNumPartitions() >= 6
    assert positions(frame) == expected(ranges)
