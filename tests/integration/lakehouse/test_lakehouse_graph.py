"""The Dagster graph in-process on real Kafka and Spark: kafka_batch_etl then daily_metrics,
every table and metric against an independent computation of the generated load."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.stack.dagster_services import dagster_instance_home
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from orchestration.resources import KafkaResource
from tests.support.consumer_group import wait_caught_up
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lakehouse_dagster import LakeGraph

pytestmark = pytest.mark.integration

BATCH_CHECKS = (
    "batch_reconciliation",
    "bronze_expectations",
    "envelope_expectations",
    "purchase_expectations",
)


@pytest.fixture
def graph(stack_settings, tmp_path, spark) -> LakeGraph:
    return LakeGraph(stack_settings, tmp_path / "lake")


@pytest.fixture
def shop_and_blog(make_project, metadata_store):
    shop, blog = make_project("shop"), make_project("blog")
    metadata_store.register_schema(shop.project_id, "purchase", PURCHASE_SCHEMA)
    return [shop.project_id, blog.project_id]


def past_days(n: int):
    today = utc_now().date()
    return [today - timedelta(days=k) for k in range(n, 0, -1)]


def test_the_graph_turns_a_generated_load_into_exact_tables_and_metrics(
    graph, spark, shop_and_blog, stack_settings
):
    days = past_days(3)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop_and_blog[0]})
    load.mixed(shop_and_blog, days, events=400)
    load.flush()

    etl = graph.run_etl(graph.pending(shop_and_blog))

    assert etl.success
    checks = graph.checks(etl)
    assert {name: checks[name] for name in BATCH_CHECKS} == dict.fromkeys(BATCH_CHECKS, True)
    tables = graph.defs.resources["lakehouse"].tables
    bronze = spark.read.format("delta").load(tables.bronze_events)
    assert (
        bronze.count()
        == bronze.select("topic", "partition", "offset").distinct().count()
        == load.expected.records
    )
    validated = spark.read.format("delta").load(tables.validated_events)
    assert {(r.projectId, r.eventId): r.eventDate for r in validated.collect()} == load.expected.events
    quarantined = spark.read.format("delta").load(tables.quarantined_events)
    assert dict(quarantined.groupBy("reason").count().collect()) == dict(load.expected.quarantined)
    assert quarantined.where("value IS NULL OR size(problems) = 0").count() == 0, (
        "each with its record and why"
    )
    assert graph.run_daily_range(days[0], days[-1]).success, "the days in one run, as backfills do"
    metrics = {
        (r.metricDate, r.projectId): r
        for r in spark.read.format("delta")
        .load(graph.defs.resources["lakehouse"].tables.daily_metrics)
        .collect()
    }
    expected = load.expected.metrics
    assert set(metrics) == set(expected)
    for key, want in expected.items():
        got = metrics[key]
        assert (got.events, got.dailyActiveUsers, got.purchases) == (
            want.events,
            len(want.users),
            want.purchases,
        ), key
        assert dict(got.eventsByType) == dict(want.by_type), key
        assert {c: Decimal(v) for c, v in got.revenueByCurrency.items()} == dict(want.revenue), key


def test_success_commits_the_offsets_and_a_late_event_recomputes_its_day(
    graph, spark, project, stack_settings
):
    day = past_days(2)[0]
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema=set())
    for _ in range(50):
        load.send(project.project_id, load.event(day))
    load.flush()
    first = graph.pending([project.project_id])
    kafka = KafkaResource(
        bootstrap_servers=stack_settings.kafka_bootstrap_servers, etl_group=f"etl-{uuid.uuid4().hex[:8]}"
    )
    assert graph.run_etl(first).success

    commit_tick(graph, kafka)
    assert kafka.etl_committed() == {(r.topic, r.partition): r.end for r in first}, (
        "the batch-etl group shows no lag"
    )
    late_sensor = graph.defs.resolve_sensor_def("late_events_sensor")
    with dg.build_sensor_context(instance=graph.instance) as context:
        seen = late_sensor(context)
    assert [r.partition_key for r in seen.run_requests] == [day.isoformat()]
    assert graph.run_daily(day).success
    assert daily_events(spark, graph, day, project.project_id) == 50

    late = load.event(day)
    load.send(project.project_id, late)
    load.flush()
    second = graph.pending([project.project_id], committed=kafka.etl_committed())
    assert sum(r.count for r in second) == 1
    assert graph.run_etl(second).success
    with dg.build_sensor_context(instance=graph.instance, cursor=seen.cursor) as context:
        after = late_sensor(context)

    (request,) = after.run_requests
    assert request.partition_key == day.isoformat()
    assert graph.run_daily(day, tags=request.tags).success
    assert daily_events(spark, graph, day, project.project_id) == 51
    commit_tick(graph, kafka)
    assert kafka.etl_committed() == {(r.topic, r.partition): r.end for r in [*first, *second]}


def test_an_error_level_check_failure_blocks_daily_metrics_until_a_clean_batch(
    project, stack_settings, tmp_path, spark
):
    # The instance the stack's daemon runs with (dagster.yaml: run retries on), so the run's
    # retry verdict is the one the daemon would act on.
    home = dagster_instance_home(stack_settings.model_copy(update={"home": tmp_path / "home"}))
    graph = LakeGraph(stack_settings, tmp_path / "lake", dg.DagsterInstance.from_config(str(home)))
    day = past_days(1)[0]
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema=set())
    load.send(project.project_id, load.event(day, "purchase", amount=10, currency="XXX"))  # no schema here
    load.flush()
    ranges = graph.pending([project.project_id])

    etl = graph.run_etl(ranges)

    assert etl.success, "the data is written; only what is computed from it waits"
    assert graph.checks(etl)["purchase_expectations"] is False
    blocked = graph.run_daily(day, raise_on_error=False)
    assert not blocked.success
    (failure,) = [e for e in blocked.all_events if e.is_step_failure]
    failed_checks = failure.step_failure_data.user_failure_data.metadata["failed_checks"].data
    assert [c.split(" ")[0] for c in failed_checks] == ["validated_events.purchase_expectations"]
    assert "validated_events.purchase_expectations" in failure.step_failure_data.user_failure_data.description
    assert not [e for e in blocked.all_events if e.is_step_up_for_retry], (
        "a refusal is not retried in the run"
    )
    refused_run = graph.instance.get_run_by_id(blocked.run_id)
    assert refused_run.tags["dagster/will_retry"] == "false", "nor does the daemon launch it again"

    load.send(project.project_id, load.event(day, "purchase", amount=10, currency="EUR"))
    load.flush()
    clean = graph.run_etl(
        graph.pending([project.project_id], {(r.topic, r.partition): r.end for r in ranges})
    )
    assert graph.checks(clean)["purchase_expectations"] is True
    assert graph.run_daily(day).success


def test_a_backfill_rebuilds_three_days_from_bronze(graph, spark, shop_and_blog, stack_settings):
    days = past_days(3)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop_and_blog[0]}, seed=3)
    load.mixed(shop_and_blog, days, events=150)
    load.flush()
    assert graph.run_etl(graph.pending(shop_and_blog)).success
    tables = graph.defs.resources["lakehouse"].tables
    DeltaTable.forPath(spark, tables.validated_events).delete(F.col("eventDate").isin(days[:2]))  # lost rows

    for day in days:
        assert graph.run_daily(day, tags={"dagster/backfill": "test-backfill"}).success

    validated = spark.read.format("delta").load(tables.validated_events)
    assert {(r.projectId, r.eventId): r.eventDate for r in validated.collect()} == load.expected.events
    for (day, project_id), want in load.expected.metrics.items():
        assert daily_events(spark, graph, day, project_id) == want.events


def commit_tick(graph: LakeGraph, kafka: KafkaResource) -> None:
    with dg.build_sensor_context(instance=graph.instance, resources={"kafka": kafka}) as context:
        graph.defs.resolve_sensor_def("batch_etl_commit_sensor")(context)


def daily_events(spark, graph: LakeGraph, day, project_id: str) -> int:
    rows = (
        spark.read.format("delta")
        .load(graph.defs.resources["lakehouse"].tables.daily_metrics)
        .where((F.col("metricDate") == F.lit(day)) & (F.col("projectId") == project_id))
        .collect()
    )
    return rows[0].events if rows else 0


def test_the_worker_s_hourly_counts_in_redis_match_validated_events(
    graph, project, stack_settings, stream_worker
):
    now = utc_now()
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema=set(), seed=9)
    for hours_ago in (1, 2, 5):  # complete hours, well inside the test's Redis retention (60 h)
        for _ in range(20):
            event = load.event(now.date())
            event["timestamp"] = format_rfc3339(
                now - timedelta(hours=hours_ago, minutes=load.rng.randrange(50))
            )
            load.send(project.project_id, event)
    load.flush()
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
    )

    etl = graph.run_etl(graph.pending([project.project_id]))

    (evaluation,) = [e for e in etl.get_asset_check_evaluations() if e.check_name == "realtime_matches_batch"]
    assert evaluation.passed, evaluation.metadata
    assert evaluation.metadata["compared"].value is True
    assert evaluation.metadata["realtime_events"].value == evaluation.metadata["batch_events"].value == 60
