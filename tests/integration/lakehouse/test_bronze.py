"""bronze_events on a real topic: every record once, with its position; writing a range again adds nothing."""

from __future__ import annotations

import pytest

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.bronze import append_bronze
from analytics_pipeline.lakehouse.offset_ranges import pending_ranges
from analytics_pipeline.settings import Settings
from tests.support.events import new_event
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration


def ends_of(settings: Settings, topic: str) -> dict[tuple[str, int], int]:
    return {(topic, o.partition): o.latest for o in topic_offsets(settings.kafka_bootstrap_servers, topic)}


def test_ranges_land_once_even_when_written_again(spark, stack_settings, project, tmp_path):
    bootstrap, topic, table = (
        stack_settings.kafka_bootstrap_servers,
        raw_topic(project.project_id),
        str(tmp_path / "bronze"),
    )
    first = [new_event() for _ in range(40)]
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, first)
    ranges = pending_ranges({}, ends_of(stack_settings, topic))

    written = append_bronze(spark, bootstrap, ranges, table)
    again = append_bronze(spark, bootstrap, ranges, table)  # a retried run over the same ranges

    assert sum(w.rows for w in written) == 40
    assert [w.rows for w in again] == [0] * len(ranges)
    rows = spark.read.format("delta").load(table)
    assert rows.count() == 40
    assert {r.key for r in rows.select("key").collect()} == {e["eventId"] for e in first}
    assert rows.select("topic", "partition", "offset").distinct().count() == 40
    assert {r.projectId for r in rows.select("projectId").distinct().collect()} == {project.project_id}
    assert rows.where("receivedAt IS NULL").count() == 0

    later = [new_event() for _ in range(10)]
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, later)
    committed = {(r.topic, r.partition): r.end for r in ranges}
    next_ranges = pending_ranges(committed, ends_of(stack_settings, topic))
    assert sum(w.rows for w in append_bronze(spark, bootstrap, next_ranges, table)) == 10
    assert spark.read.format("delta").load(table).count() == 50
