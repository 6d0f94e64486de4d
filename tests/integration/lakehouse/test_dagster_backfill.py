"""The lakehouse through a real dagster-webserver and dagster-daemon: the UI's graph reads
raw_events -> bronze -> validated (+ quarantined) -> daily_metrics, and `analytics lakehouse
backfill` over three days makes the daemon rebuild them from bronze, exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from analytics_pipeline.dagster_api import graphql, latest_materializations
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.dagster_services import DagsterDaemon, DagsterWebserver
from analytics_pipeline.timeutil import utc_now
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lakehouse_dagster import LakeGraph
from tests.support.stack import with_new_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LINEAGE = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


@pytest.fixture
def dagster_settings(stack_settings: Settings, tmp_path: Path) -> Settings:
    """A private Dagster home and lake on the session's Kafka; the offsets sensor never fires
    (its batch and wait are out of reach), so only the backfill launches runs."""
    private = stack_settings.model_copy(
        update={
            "home": tmp_path / "home",
            "lake_dir": str(tmp_path / "lake"),
            "metadata_url": stack_settings.metadata_database_url,
            "jars_dir": stack_settings.jar_root,
            "spark_master": "local[2]",
            "etl_batch_size": 10**9,
            "etl_max_wait_s": 10**9,
        }
    )
    return with_new_ports(private, "dagster")


@pytest.fixture
def dagster(dagster_settings: Settings) -> Iterator[str]:
    webserver, daemon = DagsterWebserver(dagster_settings), DagsterDaemon(dagster_settings)
    try:
        webserver.ensure_running()
        daemon.ensure_running()
        yield dagster_settings.dagster_url
    finally:
        daemon.stop()
        webserver.stop()


def test_the_ui_graph_and_a_three_day_backfill_from_bronze(
    spark, make_project, metadata_store, dagster_settings, dagster
):
    shop, blog = make_project("shop").project_id, make_project("blog").project_id
    metadata_store.register_schema(shop, "purchase", PURCHASE_SCHEMA)
    today = utc_now().date()
    days = [today - timedelta(days=k) for k in (3, 2, 1)]
    load = LakeLoad(dagster_settings.kafka_bootstrap_servers, with_schema={shop}, seed=5)
    load.mixed([shop, blog], days, events=240)
    load.flush()
    graph = LakeGraph(dagster_settings, Path(dagster_settings.lake_root))
    assert graph.run_etl(graph.pending([shop, blog])).success
    tables = graph.defs.resources["lakehouse"].tables
    DeltaTable.forPath(spark, tables.validated_events).delete(F.col("eventDate").isin(days[:2]))  # lost rows

    edges = {
        "/".join(node["assetKey"]["path"]): {"/".join(d["path"]) for d in node["dependencyKeys"]}
        for node in graph_nodes(dagster)
    }
    assert edges["bronze_events"] == {"raw_events"}
    assert edges["validated_events"] == edges["quarantined_events"] == {"bronze_events"}
    assert edges["daily_metrics"] == {"validated_events"}
    assert edges["realtime_metrics"] == {"raw_events"}

    span = ["--start", days[0].isoformat(), "--end", days[-1].isoformat(), "--timeout-s", "300"]
    cli = subprocess.run(
        [sys.executable, "-m", "analytics_pipeline.cli.main", "lakehouse", "backfill", *span],
        env={**os.environ, **dagster_settings.as_environment()},
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )

    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "COMPLETED_SUCCESS: 3/3 day(s) materialized, 0 failed" in cli.stdout
    validated = spark.read.format("delta").load(tables.validated_events)
    assert {(r.projectId, r.eventId): r.eventDate for r in validated.collect()} == load.expected.events
    metrics = spark.read.format("delta").load(tables.daily_metrics).collect()
    assert {(r.metricDate, r.projectId): r.events for r in metrics} == {
        key: m.events for key, m in load.expected.metrics.items()
    }
    runs = latest_materializations(dagster, "daily_metrics")
    assert sorted(m.partition for m in runs) == [d.isoformat() for d in days]
    assert all("validated_rows_rederived" in m.metadata for m in runs), "backfill runs rebuild from bronze"


def graph_nodes(url: str) -> list[dict]:
    return graphql(url, LINEAGE)["assetNodes"]
