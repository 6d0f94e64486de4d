"""The lakehouse's Spark session on this machine: Delta tables and the Kafka batch source, from
the jars Maven fetched (nothing resolved at run time)."""

from __future__ import annotations

import json

import pytest

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from tests.support.events import new_event
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration


def test_no_package_is_resolved_at_run_time(spark):
    conf = spark.sparkContext.getConf()
    assert not conf.get("spark.jars.packages", "")
    jars = conf.get("spark.jars").split(",")
    assert any("delta-spark" in jar for jar in jars)
    assert any("spark-sql-kafka" in jar for jar in jars)


def test_a_delta_table_is_written_read_and_replaced_by_partition(spark, tmp_path):
    path = str(tmp_path / "events")
    rows = [("2026-11-25", "a", 1), ("2026-11-25", "b", 2), ("2026-11-26", "c", 3)]
    frame = spark.createDataFrame(rows, "day string, id string, n int")
    frame.write.format("delta").partitionBy("day").save(path)
    replacement = spark.createDataFrame([("2026-11-25", "z", 9)], "day string, id string, n int")
    (
        replacement.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", "day = '2026-11-25'")
        .save(path)
    )
    table = spark.read.format("delta").load(path)
    assert sorted((r.day, r.id, r.n) for r in table.collect()) == [
        ("2026-11-25", "z", 9),
        ("2026-11-26", "c", 3),
    ]
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    assert len(history) == 2, "two commits: the write and the replace"


def test_the_kafka_batch_source_reads_exactly_the_requested_offsets(spark, stack_settings, project):
    events = [new_event() for _ in range(30)]
    with RawWriter(stack_settings.kafka_bootstrap_servers) as writer:
        writer.events(project.project_id, events)
    topic = raw_topic(project.project_id)
    ends = {o.partition: o.latest for o in topic_offsets(stack_settings.kafka_bootstrap_servers, topic)}
    starting = {topic: {str(p): 1 for p in ends}}  # skip each partition's first record
    ending = {topic: {str(p): end for p, end in ends.items()}}
    frame = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", stack_settings.kafka_bootstrap_servers)
        .option("subscribe", topic)
        .option("startingOffsets", json.dumps(starting))
        .option("endingOffsets", json.dumps(ending))
        .load()
    )
    rows = frame.select("partition", "offset", "key").collect()
    assert len(rows) == 30 - len(ends)
    assert all(row.offset >= 1 for row in rows)
    assert {row.key.decode() for row in rows} < {event["eventId"] for event in events}
