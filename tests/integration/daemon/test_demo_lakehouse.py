"""`make demo` end to end on the folder's private stack: `analytics stack up` (Kafka, Redis, the S3
server, the APIs, a stream worker, the Dagster UI and daemon), then `analytics demo`, which waits until
the sensors have carried its events through the whole graph and into the archive. The lake's
daily_metrics must then hold, for each past day, exactly the demo events Kafka holds for that
day; the UI's GraphQL shows the lineage; and `analytics lakehouse backfill` over two days whose
validated rows were lost makes the daemon rebuild them from bronze, exactly; once bronze lost
them too, `analytics archive restore` brings them back from the archive."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from analytics_pipeline.archive.object_store import settings_archive_store
from analytics_pipeline.dagster_api import graphql, latest_materializations
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import parse_rfc3339, utc_now
from tests.support.archival import archived_records, kafka_records
from tests.support.cli import analytics
from tests.support.kafka_reader import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(900)]

LINEAGE = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


def test_make_demo_ends_with_the_whole_graph_materialized(daemon_stack: Settings, spark):
    settings = daemon_stack
    up = analytics(settings, "stack", "up", timeout=300)  # as make demo does: starts what is not running
    assert up.returncode == 0, up.stdout + up.stderr
    demo = analytics(settings, "demo", "--events", "600", "--live-seconds", "3", timeout=780)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "the whole graph materialized" in demo.stdout, demo.stdout[-3000:]
    assert "daily_metrics partitions the demo recomputed" in demo.stdout
    assert "Dagster UI" in demo.stdout

    today = utc_now().date()
    in_kafka = Counter(
        parse_rfc3339(r.value["timestamp"]).date()
        for r in read_topic(settings.kafka_bootstrap_servers, raw_topic("demo"))
    )
    expected = {day: n for day, n in in_kafka.items() if day < today}
    assert daily_events(spark, settings) == expected

    edges = {
        "/".join(node["assetKey"]["path"]): {"/".join(d["path"]) for d in node["dependencyKeys"]}
        for node in graphql(settings.dagster_url, LINEAGE)["assetNodes"]
    }
    assert edges["bronze_events"] == {"raw_events"}
    assert edges["validated_events"] == edges["quarantined_events"] == {"bronze_events"}
    assert edges["daily_metrics"] == {"validated_events"}
    assert edges["realtime_metrics"] == {"raw_events"}
    assert edges["events_archive"] == {"raw_events"}

    assert "s3://analytics-archive/archive/demo/" in demo.stdout, "the demo shows the archive"
    store = settings_archive_store(settings)
    assert archived_records(store, "demo") == kafka_records(settings, "demo")
    listed = analytics(settings, "archive", "list", "--project", "demo", "--json", timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["records"] == sum(in_kafka.values())

    lost = sorted(expected)[-2:]
    validated_path = f"{settings.lake_root}/validated_events"
    DeltaTable.forPath(spark, validated_path).delete(F.col("eventDate").isin(lost))
    backfill = analytics(
        settings,
        "lakehouse",
        "backfill",
        "--start",
        lost[0].isoformat(),
        "--end",
        lost[-1].isoformat(),
        timeout=400,
    )
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    assert "COMPLETED_SUCCESS: 2/2 day(s) materialized, 0 failed" in backfill.stdout
    assert daily_events(spark, settings) == expected
    rebuilt = spark.read.format("delta").load(validated_path).where(F.col("eventDate").isin(lost))
    assert rebuilt.where(F.col("projectId") == "demo").count() == sum(expected[d] for d in lost)
    (run,) = {m.run_id for m in latest_materializations(settings.dagster_url, "daily_metrics", 2)}
    assert latest_materializations(settings.dagster_url, "daily_metrics", 1)[0].metadata[
        "validated_rows_rederived"
    ] == sum(expected[d] for d in lost), f"run {run} rebuilt the days from bronze"

    # the same two days lost from bronze too: only the archive has them now
    bronze_path = f"{settings.lake_root}/bronze_events"
    DeltaTable.forPath(spark, bronze_path).delete(F.col("eventDate").isin(lost))
    DeltaTable.forPath(spark, validated_path).delete(F.col("eventDate").isin(lost))
    restored = analytics(
        settings,
        "archive",
        "restore",
        "--project",
        "demo",
        "--from",
        lost[0].isoformat(),
        "--to",
        lost[-1].isoformat(),
        timeout=600,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "SUCCESS: demo" in restored.stdout
    assert daily_events(spark, settings) == expected
    bronze = spark.read.format("delta").load(bronze_path).where(F.col("eventDate").isin(lost))
    assert bronze.count() == sum(in_kafka[d] for d in lost)
    rebuilt = spark.read.format("delta").load(validated_path).where(F.col("eventDate").isin(lost))
    assert rebuilt.where(F.col("projectId") == "demo").count() == sum(expected[d] for d in lost)


def daily_events(spark, settings: Settings) -> dict:
    lake = spark.read.format("delta").load(f"{settings.lake_root}/daily_metrics")
    return {r.metricDate: r.events for r in lake.where(F.col("projectId") == "demo").collect()}
