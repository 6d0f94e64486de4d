"""The long-lived Spark Connect server the stack's lake runs share (issue 14 §3), through the real
daemon on the folder's private stack:

- the server is part of `analytics stack status`, and runs do their Spark work on it;
- SIGKILLed in the middle of an ETL step, it is started again by the step's retry, and the lake
  ends exact: no event lost, none twice.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.spark_server import SparkConnectServer, SparkServerSpec
from analytics_pipeline.timeutil import utc_now
from sensors.kafka_offsets import batch_run_config
from tests.integration.daemon.test_lakehouse_daemon import new_project
from tests.support.cli import analytics
from tests.support.dagster_graphql import launch_run, run_event_kinds, stop_sensor, wait_finished
from tests.support.lake_load import LakeLoad

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(900)]

EVENTS = 2_000


def commit_count(table: str) -> int:
    return len(list((Path(table) / "_delta_log").glob("*.json")))


def test_a_spark_server_killed_mid_step_is_started_again_and_the_retried_step_loses_nothing(
    daemon_stack: Settings, spark
):
    url = daemon_stack.dagster_url
    stop_sensor(url, "kafka_offsets_sensor")  # the run below is the only reader
    listed = analytics(daemon_stack, "stack", "status")
    assert listed.returncode == 0, listed.stdout
    assert "spark-connect" in listed.stdout
    server = SparkConnectServer(SparkServerSpec.of(daemon_stack))
    assert server.healthy()
    first_pid = server.process.running_pid()
    assert first_pid is not None

    project, _auth = new_project(daemon_stack, "spark-server")
    day = utc_now().date() - timedelta(days=1)
    load = LakeLoad(daemon_stack.kafka_bootstrap_servers, with_schema=set(), seed=21)
    for _ in range(EVENTS):
        load.send(project, load.event(day, "page_view"))
    load.flush()
    topic = raw_topic(project)
    ranges = [
        OffsetRange(topic, o.partition, 0, o.latest)
        for o in topic_offsets(daemon_stack.kafka_bootstrap_servers, topic)
        if o.latest
    ]
    lake = LakeTables(daemon_stack.lake_root)
    bronze_commits = commit_count(lake.bronze_events)

    run_id = launch_run(url, "kafka_batch_etl", batch_run_config(ranges))
    deadline = time.monotonic() + 300
    while commit_count(lake.bronze_events) == bronze_commits and time.monotonic() < deadline:
        time.sleep(0.1)
    assert commit_count(lake.bronze_events) > bronze_commits, "the run never wrote bronze"
    server.process.kill()  # bronze is written, validated not yet: the step is in the middle

    [run] = wait_finished(url, [run_id], timeout_s=600)
    assert run.status == "SUCCESS", run
    kinds = run_event_kinds(url, run_id)
    assert "ExecutionStepUpForRetryEvent" in kinds, "the step that lost the server was retried"
    restarted = server.process.running_pid()
    assert restarted not in (None, first_pid), "the retry started the server again"
    assert server.healthy()

    bronze = spark.read.format("delta").load(lake.bronze_events).where(F.col("projectId") == project)
    assert bronze.count() == bronze.select("topic", "partition", "offset").distinct().count() == EVENTS
    validated = spark.read.format("delta").load(lake.validated_events).where(F.col("projectId") == project)
    assert validated.count() == validated.select("eventId").distinct().count() == EVENTS
