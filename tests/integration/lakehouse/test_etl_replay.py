"""`analytics replay --group batch-etl` in-process on real Kafka and Spark: the sensors that own
the group honour the replay, and the runs that read records again leave every table exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.batch_plan import BatchPolicy, PlannerCursor, plan_batches
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.timeutil import utc_now
from resources.kafka import KafkaResource
from tests.support.lake_load import LakeLoad
from tests.support.lakehouse_dagster import LakeGraph, commit_tick, daily_events, past_days

pytestmark = pytest.mark.integration

ANALYTICS = str(Path(sys.executable).with_name("analytics"))


def lake_rows(spark, graph: LakeGraph, project_id: str) -> dict[str, list[str]]:
    """Every row of the project in bronze, validated and quarantined, as sorted JSON."""
    tables = graph.defs.resources["lakehouse"].tables
    found = {}
    for name in ("bronze_events", "validated_events", "quarantined_events"):
        rows = spark.read.format("delta").load(getattr(tables, name)).where(F.col("projectId") == project_id)
        found[name] = sorted(
            json.dumps(r.asDict(recursive=True), default=str, sort_keys=True) for r in rows.collect()
        )
    return found


def test_a_replayed_batch_etl_group_reads_its_ranges_again_and_the_tables_stay_exact(
    graph, spark, project, stack_settings
):
    """`analytics replay --group batch-etl --shift -N`: the commit sensor does not let the first
    pass's runs undo the replay, the planner asks for the records again in ranges cut anew, and
    those runs add no row: every table is as the first pass left it."""
    bootstrap, pid = stack_settings.kafka_bootstrap_servers, project.project_id
    days = past_days(2)
    load = LakeLoad(bootstrap, with_schema=set(), seed=11)
    load.mixed([pid], days, events=150)
    load.flush()
    group = f"etl-{uuid.uuid4().hex[:8]}"
    kafka = KafkaResource(bootstrap_servers=bootstrap, etl_group=group)
    whole = graph.pending([pid])
    halves = [
        [OffsetRange(r.topic, r.partition, r.start, r.start + r.count // 2) for r in whole],
        [OffsetRange(r.topic, r.partition, r.start + r.count // 2, r.end) for r in whole],
    ]
    for ranges in halves:  # the first pass: two runs
        assert graph.run_etl(ranges).success
    commit_tick(graph, kafka)
    ends = {(r.topic, r.partition): r.end for r in whole}
    assert kafka.etl_committed() == ends
    for day in days:
        assert graph.run_daily(day).success
    before = lake_rows(spark, graph, pid)
    metrics_before = {day: daily_events(spark, graph, day, pid) for day in days}
    assert len(before["bronze_events"]) == sum(ends.values())

    env = {**os.environ, **stack_settings.as_environment()}
    shift = ["replay", "--group", group, "--project", pid, "--shift", "-7", "--json"]
    replayed = subprocess.run(
        [ANALYTICS, *shift], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert replayed.returncode == 0, replayed.stderr
    committed, marks = kafka.etl_commits()
    assert committed == {tp: end - 7 for tp, end in ends.items()}
    assert set(marks) == set(ends)
    commit_tick(graph, kafka)
    assert kafka.etl_committed() == committed, "the first pass's runs do not undo the replay"

    cursor = PlannerCursor(dict(ends))  # where the planner stood after the first pass
    plan = plan_batches(
        cursor, committed, ends, BatchPolicy(1, timedelta(0), 100_000), utc_now(), replays=marks
    )
    (again,) = plan.runs
    assert sorted(again) == sorted(OffsetRange(t, p, end - 7, end) for (t, p), end in ends.items())
    stamps = plan.cursor.replay_stamps(again)
    assert stamps == sorted(set(marks.values()))
    result = graph.run_etl(again, tuple(stamps))
    assert result.success
    assert graph.checks(result)["batch_reconciliation"]
    commit_tick(graph, kafka)
    assert kafka.etl_commits() == (ends, marks), "the replay's run carries the commits on, the marks kept"
    for day in days:
        assert graph.run_daily(day).success
    assert lake_rows(spark, graph, pid) == before
    assert {day: daily_events(spark, graph, day, pid) for day in days} == metrics_before
