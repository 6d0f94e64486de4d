"""A kafka_batch_etl run SIGKILLed between its Delta writes, then run again over the same offset
ranges: the tables end exact, no event lost and none doubled.

The run is a real Dagster run in a process of its own (``tests.support.etl_child``), killed with
its whole process group (the Spark JVM and its Python workers) the moment a chosen table's
commit appears in its ``_delta_log``; the rerun is in-process, as in the lakehouse tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from pyspark.sql import DataFrame, SparkSession

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, ranges_to_config
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.stack.services import REPO_ROOT
from analytics_pipeline.timeutil import utc_now
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lake_location import LakeLocation, lake_location
from tests.support.lakehouse_dagster import LakeGraph

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 10_000  # the writes take seconds (~1 s from validated to quarantine); more overruns 3 minutes
# The batch's own checks; realtime_matches_batch (WARN) needs a streaming worker on these topics.
BATCH_CHECKS = (
    "batch_reconciliation",
    "bronze_expectations",
    "envelope_expectations",
    "purchase_expectations",
)


@dataclass(frozen=True)
class KillPoint:
    """Kill once ``table`` has commit ``version``; tables in ``not_yet`` must have none from it on."""

    table: str
    version: int
    not_yet: dict[str, int]


KILL_POINTS = {
    # validated committed (version 0 is its empty creation); bronze and the quarantine not
    "after-validated": KillPoint("validated_events", 1, {"bronze_events": 0, "quarantined_events": 0}),
    # validated and bronze committed; the quarantine not
    "after-bronze": KillPoint("bronze_events", 0, {"quarantined_events": 0}),
}


@dataclass(frozen=True)
class Load:
    load: LakeLoad
    ranges: list[OffsetRange]


@pytest.fixture(scope="module")
def two_project_load(
    stack_settings: Settings, metadata_store: MetadataStore, kafka_broker: KafkaBroker, tmp_path_factory
) -> Iterator[Load]:
    """One load for every kill point (each case runs over a fresh lake): writing it costs seconds."""
    shop, blog = (
        provision_project(stack_settings, metadata_store, name, f"{name}-{uuid.uuid4().hex[:10]}")
        for name in ("shop", "blog")
    )
    metadata_store.register_schema(shop.project_id, "purchase", PURCHASE_SCHEMA)
    project_ids = [shop.project_id, blog.project_id]
    today = utc_now().date()
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop.project_id}, seed=23)
    load.mixed(project_ids, [today - timedelta(days=k) for k in (3, 2, 1)], events=EVENTS)
    load.flush()
    ranges = LakeGraph(stack_settings, tmp_path_factory.mktemp("plan")).pending(project_ids)
    yield Load(load, ranges)
    load.close()


# (where the lake lives, the kill point): every kill point on a folder, the first on S3 too
# Each kill point once, and each kind of lake once: the kill point decides what a rerun must repair.
CASES = [("folder", "after-validated"), ("s3", "after-bronze")]


@pytest.mark.parametrize(("where", "point"), CASES, ids=[f"{w}-{p}" for w, p in CASES])
def test_a_run_killed_between_writes_then_rerun_leaves_exact_tables(  # noqa: PLR0917 - fixtures
    where: str,
    point: str,
    two_project_load: Load,
    stack_settings: Settings,
    spark: SparkSession,
    tmp_path,
    request,
):
    kill_point = KILL_POINTS[point]
    lake = lake_location(where, tmp_path, request.getfixturevalue("s3_server") if where == "s3" else None)
    expected = two_project_load.load.expected
    ranges = two_project_load.ranges
    assert sum(r.count for r in ranges) == expected.records

    kill_etl_child(stack_settings, lake, ranges, kill_point, tmp_path / "etl_child.log")

    for name, version in kill_point.not_yet.items():
        assert max(lake.commits(name), default=-1) < version, f"killed too late: {name} was written"
    bronze_before = "bronze_events" not in kill_point.not_yet
    if bronze_before:
        assert table(spark, lake, "bronze_events").count() == expected.records, "the killed run wrote bronze"
    assert table(spark, lake, "validated_events").count() == len(expected.events), "and validated"

    graph = LakeGraph(stack_settings, lake.root)
    rerun = graph.run_etl(ranges)

    assert rerun.success
    checks = graph.checks(rerun)
    assert {name: checks.get(name) for name in BATCH_CHECKS} == dict.fromkeys(BATCH_CHECKS, True)
    added = rows_added(rerun)
    assert added["validated_events"] == 0, "validated had the batch: its txnAppId made the append a no-op"
    assert added["bronze_events"] == (0 if bronze_before else expected.records)
    assert added["quarantined_events"] == sum(expected.quarantined.values())
    bronze = table(spark, lake, "bronze_events")
    assert bronze.count() == expected.records
    assert bronze.select("topic", "partition", "offset").distinct().count() == expected.records
    validated = table(spark, lake, "validated_events")
    assert validated.count() == len(expected.events)
    assert {(r.projectId, r.eventId): r.eventDate for r in validated.collect()} == expected.events
    quarantined = table(spark, lake, "quarantined_events")
    assert dict(quarantined.groupBy("reason").count().collect()) == dict(expected.quarantined)


def kill_etl_child(
    settings: Settings, lake: LakeLocation, ranges: list[OffsetRange], kill_point: KillPoint, log_path: Path
) -> None:
    """Start the run in a new session, SIGKILL its process group at the kill point, wait it out."""
    argv = [sys.executable, "-m", "tests.support.etl_child", "--lake", lake.root]
    argv += ["--ranges", json.dumps(ranges_to_config(ranges))]
    with log_path.open("wb") as log:
        child = subprocess.Popen(
            argv,
            env={**os.environ, **settings.as_environment()},
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the JVM and Python workers die with it
        )
        try:
            wait_until(
                lambda: kill_point.version in lake.commits(kill_point.table) or child.poll() is not None,
                240,
                0.005 if lake.client is None else 0.02,
            )
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(30)
            assert wait_until(lambda: not group_alive(child.pid), 30, 0.05), "the JVM outlived the kill"
    reached = f"{kill_point.table} commits {lake.commits(kill_point.table)}, exit {child.returncode}"
    assert kill_point.version in lake.commits(kill_point.table), (
        f"the run died early: {reached}\n{tail(log_path)}"
    )
    assert child.returncode == -signal.SIGKILL, f"the run ended by itself: {reached}\n{tail(log_path)}"


def tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-3000:]


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs; zombies (reaped by init, or never) do not count."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def table(spark: SparkSession, lake: LakeLocation, name: str) -> DataFrame:
    return spark.read.format("delta").load(lake.table(name))


def rows_added(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    return {
        m.asset_key.to_user_string(): m.metadata["rows_added"].value
        for m in result.asset_materializations_for_node("kafka_batch")
    }
