"""The archive gives history back: a generated load (two projects, three days) through the ETL,
archived, then bronze and validated events lost; archive_restore and the rederive it triggers
rebuild bronze_events, validated_events, quarantined_events and daily_metrics identical, row by
row, to what they were (a restore's batch id and ingest and compute times name the restore)."""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from analytics_pipeline.archive.restore_request import RESTORE_JOB, ROWS_ADDED, restore_run_config
from analytics_pipeline.lakehouse.batch_plan import split_runs
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.timeutil import utc_now
from sensors.archival import archive_run_config
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lakehouse_dagster import LakeGraph

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

EVENTS = 20_000
LINEAGE = {"batchId", "ingestedAt", "computedAt"}  # which run wrote a row and when: the restore's
TABLES = ("bronze_events", "validated_events", "quarantined_events", "daily_metrics")


@pytest.fixture
def shop_and_blog(make_project, metadata_store) -> tuple[str, str]:
    shop, blog = make_project("shop").project_id, make_project("blog").project_id
    metadata_store.register_schema(shop, "purchase", PURCHASE_SCHEMA)
    return shop, blog


def test_a_restore_rebuilds_lost_tables_row_by_row(
    stack_settings: Settings,
    s3_server: S3Server,
    spark: SparkSession,
    shop_and_blog: tuple[str, str],
    tmp_path: Path,
) -> None:
    shop, blog = shop_and_blog
    today = utc_now().date()
    days = [today - timedelta(days=k) for k in (3, 2, 1)]
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop}, seed=11)
    load.mixed([shop, blog], days, events=EVENTS)
    load.flush()
    settings = stack_settings.model_copy(update={"archive_bucket": f"round-trip-{uuid.uuid4().hex[:8]}"})
    graph = LakeGraph(settings, tmp_path / "lake")
    ranges = graph.pending([shop, blog])
    assert graph.run_etl(ranges).success
    commits = dg.build_sensor_context(
        instance=graph.instance, resources={"kafka": graph.defs.resources["kafka"]}
    )
    graph.defs.resolve_sensor_def("batch_etl_commit_sensor")(
        commits
    )  # a restore takes only what the ETL committed
    assert graph.run_daily_range(days[0], days[-1]).success
    archive = graph.defs.resolve_job_def("archive_events")
    for run in split_runs(ranges, 8_000):  # several archive runs, as the sensor splits a backlog
        assert archive.execute_in_process(run_config=archive_run_config(run), instance=graph.instance).success
    lake = graph.defs.resources["lakehouse"].tables
    before = snapshot(spark, lake, tmp_path / "before")
    assert before["bronze_events"].count() == load.expected.records

    for table in ("bronze_events", "validated_events"):
        shutil.rmtree(getattr(lake, table))
    for project in (shop, blog):  # through today: the records received today without an event day
        restored = restore(graph, project, [days[0], today])
        assert restored > 0
    for table in TABLES:
        assert_same_rows(before[table], spark.read.format("delta").load(getattr(lake, table)), table)

    again = graph.defs.resolve_job_def(RESTORE_JOB).execute_in_process(
        run_config=restore_run_config(shop, days[0], today), instance=graph.instance
    )
    (materialization,) = again.get_asset_materialization_events()
    assert materialization.materialization.metadata[ROWS_ADDED].value == 0, "restoring over rows adds nothing"


def restore(graph: LakeGraph, project: str, days: list) -> int:
    """The restore job, then what restore_rederive_sensor asks for after it; the rows it added."""
    result = graph.defs.resolve_job_def(RESTORE_JOB).execute_in_process(
        run_config=restore_run_config(project, days[0], days[-1]), instance=graph.instance
    )
    assert result.success
    (materialization,) = result.get_asset_materialization_events()
    context = dg.build_run_status_sensor_context(
        sensor_name="restore_rederive_sensor",
        dagster_event=result.get_run_success_event(),
        dagster_instance=graph.instance,
        dagster_run=result.dagster_run,
    )
    request = graph.defs.resolve_sensor_def("restore_rederive_sensor")(context)
    assert isinstance(request, dg.RunRequest)
    rederive = graph.defs.resolve_job_def("daily_metrics_job").execute_in_process(
        run_config=request.run_config, tags=request.tags, instance=graph.instance
    )
    assert rederive.success
    assert (
        rederive.get_asset_materialization_events()[0]
        .materialization.metadata["validated_rows_rederived"]
        .value
    )
    return materialization.materialization.metadata[ROWS_ADDED].value


def snapshot(spark: SparkSession, lake, folder: Path) -> dict[str, DataFrame]:
    """Each table as it is now, copied aside (Parquet) so deleting the table keeps it."""
    copies = {}
    for table in TABLES:
        path = str(folder / table)
        spark.read.format("delta").load(getattr(lake, table)).write.parquet(path)
        copies[table] = spark.read.parquet(path)
    return copies


def comparable(frame: DataFrame, name: str) -> Column:
    """Maps cannot be compared by set operations: their entries, sorted, can."""
    if isinstance(frame.schema[name].dataType, MapType):
        return F.array_sort(F.map_entries(name)).alias(name)
    return F.col(name)


def assert_same_rows(before: DataFrame, after: DataFrame, table: str) -> None:
    columns = [comparable(before, c) for c in before.columns if c not in LINEAGE]
    old, new = before.select(*columns), after.select(*columns)
    assert new.count() == old.count(), table
    assert old.exceptAll(new).count() == 0, f"{table}: rows lost"
    assert new.exceptAll(old).count() == 0, f"{table}: rows added"
