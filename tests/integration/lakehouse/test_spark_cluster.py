"""kafka_batch_etl and daily_metrics on a Spark standalone cluster (a master and a worker started
from pyspark's own spark-class) write the same tables as a local run over the same ranges.

The cluster run is a process of its own (a JVM keeps the master it started with, and this one
is local), with nothing but `ANALYTICS_SPARK_MASTER`'s value changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from analytics_pipeline.lakehouse.offset_ranges import ranges_to_config
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.stack.ports import free_ports
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lakehouse_dagster import LakeGraph, past_days
from tests.support.spark_standalone import SparkMaster, SparkWorker, master_state

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(600)]

# Stamped at write time: the only columns two runs of the same ranges may differ in.
WRITE_TIMES = {"ingestedAt", "computedAt"}


@pytest.fixture(scope="module")
def spark_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkMaster]:
    home = tmp_path_factory.mktemp("spark-cluster")
    port, ui_port, worker_port, worker_ui_port = free_ports(4)
    master = SparkMaster(home, port, ui_port)
    worker = SparkWorker(home, master, worker_port, worker_ui_port)
    try:
        master.ensure_running()
        worker.ensure_running()
        yield master
    finally:
        worker.stop()
        master.stop()


def rows(spark, path: str) -> DataFrame:
    """The table without its write times, maps as sorted entries (set operations take no maps)."""
    table = spark.read.format("delta").load(path)
    return table.select(
        *(
            F.array_sort(F.map_entries(field.name)).alias(field.name)
            if isinstance(field.dataType, MapType)
            else F.col(field.name)
            for field in table.schema.fields
            if field.name not in WRITE_TIMES
        )
    )


def test_the_cluster_writes_the_tables_a_local_run_writes(  # noqa: PLR0917 - fixtures
    spark, stack_settings, make_project, metadata_store, spark_master, tmp_path: Path
):
    shop, blog = make_project("shop").project_id, make_project("blog").project_id
    metadata_store.register_schema(shop, "purchase", PURCHASE_SCHEMA)
    days = past_days(2)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop}, seed=31)
    load.mixed([shop, blog], days, events=300)
    load.flush()

    local = LakeGraph(stack_settings, tmp_path / "local")
    ranges = local.pending([shop, blog])
    assert local.run_etl(ranges).success
    assert all(local.run_daily(day).success for day in days)

    on_cluster = subprocess.run(
        [
            sys.executable, "-m", "tests.support.etl_child",
            "--lake", str(tmp_path / "cluster"),
            "--ranges", json.dumps(ranges_to_config(ranges)),
            "--master", spark_master.url,
            "--days", ",".join(day.isoformat() for day in days),
        ],
        env={**os.environ, **stack_settings.as_environment()},
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )  # fmt: skip
    assert on_cluster.returncode == 0, on_cluster.stdout[-3000:] + on_cluster.stderr[-3000:]

    state = master_state(spark_master.ui_port)
    apps = state.get("activeapps", []) + state.get("completedapps", [])
    assert any(app["name"] == "analytics-lakehouse" and app["cores"] > 0 for app in apps), (
        "the runs were executed by the cluster's worker"
    )
    mine, theirs = LakeTables(str(tmp_path / "local")), LakeTables(str(tmp_path / "cluster"))
    for table in ("bronze_events", "validated_events", "quarantined_events", "daily_metrics"):
        here, there = rows(spark, getattr(mine, table)), rows(spark, getattr(theirs, table))
        assert here.count() > 0, table
        assert here.exceptAll(there).count() == there.exceptAll(here).count() == 0, table
    validated = rows(spark, mine.validated_events)
    assert validated.count() == len(load.expected.events)
