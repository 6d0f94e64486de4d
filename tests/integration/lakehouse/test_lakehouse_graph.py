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
from analytics_pipeline.lakehouse.s3a import delta_rs_storage_options
from analytics_pipeline.query.lake_views import ProjectLake
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.stack.dagster_services import dagster_instance_home
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from resources.kafka import KafkaResource
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lake_location import KINDS, lake_location
from tests.support.lakehouse_dagster import LakeGraph, commit_tick, daily_events, past_days

pytestmark = pytest.mark.integration

BATCH_CHECKS = (
    "batch_reconciliation",
    "bronze_expectations",
    "envelope_expectations",
    "purchase_expectations",
)


@pytest.fixture
def shop_and_blog(make_project, metadata_store):
    shop, blog = make_project("shop"), make_project("blog")
    metadata_store.register_schema(shop.project_id, "purchase", PURCHASE_SCHEMA)
    return [shop.project_id, blog.project_id]


@pytest.mark.parametrize("where", KINDS)
def test_the_graph_turns_a_generated_load_into_exact_tables_and_metrics(  # noqa: PLR0917 - fixtures
    where, spark, shop_and_blog, stack_settings, tmp_path, request
):
    """The same on a lake in a folder and on a lake in the S3 server (s3a://)."""
    s3 = request.getfixturevalue("s3_server") if where == "s3" else None
    graph = LakeGraph(stack_settings, lake_location(where, tmp_path, s3).root)
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
    if s3 is not None:  # the query service reads the lake on S3 through delta-rs
        lake = ProjectLake(
            graph.defs.resources["lakehouse"].tables, storage_options=delta_rs_storage_options(s3.endpoint)
        )
        for project in shop_and_blog:
            want = sum(1 for p, _event in load.expected.events if p == project)
            assert lake.events(project, days[0], days[-1]).count_rows() == want


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


def test_one_tenant_s_bad_purchases_are_quarantined_and_hold_back_no_one_s_metrics(
    graph, spark, make_project, metadata_store, stack_settings
):
    clean, careless = make_project("clean"), make_project("careless")
    metadata_store.register_schema(clean.project_id, "purchase", PURCHASE_SCHEMA)
    day = past_days(1)[0]
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={clean.project_id}, seed=5)
    for _ in range(30):
        load.send(clean.project_id, load.event(day))
        load.send(careless.project_id, load.event(day))
    for _ in range(4):  # accepted (careless registered no schema), but revenue cannot be counted
        load.send(careless.project_id, load.event(day, "purchase", amount=10))
        load.send(careless.project_id, load.event(day, "purchase", amount=10, currency="XXX"))
    load.flush()

    etl = graph.run_etl(graph.pending([clean.project_id, careless.project_id]))

    assert etl.success
    checks = graph.checks(etl)
    assert checks["purchase_expectations"] is True, "what reached validated_events keeps the rules"
    tables = graph.defs.resources["lakehouse"].tables
    quarantined = spark.read.format("delta").load(tables.quarantined_events)
    assert dict(quarantined.groupBy("reason").count().collect()) == {
        "purchase_expectations: purchase currency known (got <missing>)": 4,
        "purchase_expectations: purchase currency known (got XXX)": 4,
    }
    assert {(r.projectId, r.stage) for r in quarantined.select("projectId", "stage").collect()} == {
        (careless.project_id, "expectation")
    }
    with dg.build_sensor_context(instance=graph.instance) as context:
        (request,) = graph.defs.resolve_sensor_def("late_events_sensor")(context).run_requests
    daily = graph.run_daily(day, tags=request.tags)
    assert daily.success
    assert graph.checks(daily) == {"matches_validated_events": True, "quality_gate": True}
    for project in (clean, careless):
        assert (
            daily_events(spark, graph, day, project.project_id)
            == load.expected.metrics[(day, project.project_id)].events
        )


def test_a_project_day_whose_rows_repeat_an_event_is_held_alone_until_it_is_rebuilt(
    graph, spark, shop_and_blog, stack_settings
):
    shop, blog = shop_and_blog
    day = past_days(1)[0]
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop}, seed=8)
    for _ in range(20):
        load.send(shop, load.event(day, "page_view"))
        load.send(blog, load.event(day, "page_view"))
    load.flush()
    assert graph.run_etl(graph.pending(shop_and_blog)).success
    tables = graph.defs.resources["lakehouse"].tables
    validated = spark.read.format("delta").load(tables.validated_events)
    validated.where(F.col("projectId") == blog).limit(3).write.format("delta").mode("append").save(
        tables.validated_events
    )  # a fault: three of blog's events written twice
    sensor = graph.defs.resolve_sensor_def("late_events_sensor")
    with dg.build_sensor_context(instance=graph.instance) as context:
        first = sensor(context)

    held = graph.run_daily(day)

    assert held.success, "the run writes every pair the gate lets through"
    (gate,) = [e for e in held.get_asset_check_evaluations() if e.check_name == "quality_gate"]
    assert not gate.passed
    assert gate.metadata["held"].value == {day.isoformat(): {blog: 3}}
    assert graph.checks(held)["matches_validated_events"] is True
    assert daily_events(spark, graph, day, shop) == 20
    assert daily_events(spark, graph, day, blog) == 0, "held: no metrics rather than wrong ones"

    with dg.build_sensor_context(instance=graph.instance, cursor=first.cursor) as context:
        recheck = sensor(context)
    (request,) = recheck.run_requests
    assert (request.partition_key, request.tags["analytics/trigger"]) == (day.isoformat(), "quality-recheck")
    with dg.build_sensor_context(instance=graph.instance, cursor=recheck.cursor) as context:
        waiting = sensor(context)
    assert not waiting.run_requests
    assert "1 held day(s) are computed again at" in waiting.skip_reason.skip_message

    rebuilt = graph.run_daily(day, tags={"dagster/backfill": "test-backfill"})  # rows rebuilt from bronze

    assert graph.checks(rebuilt) == {"matches_validated_events": True, "quality_gate": True}
    assert daily_events(spark, graph, day, blog) == 20
    with dg.build_sensor_context(instance=graph.instance, cursor=waiting.cursor) as context:
        released = sensor(context)
    assert not released.run_requests
    assert "held" not in released.skip_reason.skip_message


def test_a_stricter_schema_registered_before_the_etl_loses_no_accepted_event(
    graph, spark, api, project, metadata_store
):
    seats = {"type": "object", "properties": {"seats": {"type": "integer", "maximum": 10}}}
    metadata_store.register_schema(project.project_id, "trial_started", seats)
    day = past_days(1)[0]
    accepted = []
    for n in range(10):
        event = new_event(
            eventType="trial_started", properties={"seats": 9}, timestamp=f"{day}T10:00:{n:02d}Z"
        )
        assert api.post("/v1/events", json=event, headers=project.auth).status_code == 202
        accepted.append(event["eventId"])
    metadata_store.register_schema(
        project.project_id,
        "trial_started",
        {**seats, "properties": {"seats": {"type": "integer", "maximum": 5}}},
    )

    assert graph.run_etl(graph.pending([project.project_id])).success

    tables = graph.defs.resources["lakehouse"].tables
    assert validated_versions(spark, tables, project.project_id) == dict.fromkeys(accepted, 1)
    assert graph.run_daily(day, tags={"dagster/backfill": "keeps-them"}).success
    assert validated_versions(spark, tables, project.project_id) == dict.fromkeys(accepted, 1), (
        "a backfill judges by the version accepted under too"
    )

    rejudged = graph.run_daily(day, tags={"dagster/backfill": "rejudge", "analytics/judge": "newest-schemas"})

    assert rejudged.success
    assert validated_versions(spark, tables, project.project_id) == {}, "re-judged, as asked for"
    quarantined = (
        spark.read.format("delta")
        .load(tables.quarantined_events)
        .where(F.col("projectId") == project.project_id)
    )
    assert sorted(r.eventId for r in quarantined.collect()) == sorted(accepted)
    assert {(r.stage, r.reason) for r in quarantined.collect()} == {
        ("schema", "properties.seats: 9 is greater than the maximum of 5")
    }


def validated_versions(spark, tables, project_id: str) -> dict[str, int]:
    rows = spark.read.format("delta").load(tables.validated_events).where(F.col("projectId") == project_id)
    return {r.eventId: r.schemaVersion for r in rows.collect()}


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


def test_the_worker_s_hourly_counts_in_redis_match_the_lake_in_every_hour_both_hold(
    graph, project, stack_settings, stream_worker
):
    now = utc_now()
    this_hour = window_start(now, Granularity.HOUR)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema=set(), seed=9)

    def send_at(moment, **properties):
        event = load.event(now.date(), "purchase" if properties else "page_view", **properties)
        event["timestamp"] = format_rfc3339(moment)
        load.send(project.project_id, event)

    for hours_ago in (1, 2, 5):  # complete hours, well inside the test's Redis retention (60 h)
        for _ in range(20):
            send_at(this_hour - timedelta(hours=hours_ago, minutes=-load.rng.randrange(60)))
    for _ in range(10):  # the current hour is compared too
        send_at(this_hour + (now - this_hour) / 2)
    for _ in range(5):  # quarantined by a quality rule, counted by the worker: the lake holds them too
        send_at(this_hour - timedelta(minutes=50), amount=3, currency="XXX")
    load.flush()
    ranges = graph.pending([project.project_id])
    for _ in range(4):  # read by the worker, not yet by the lake: their hour (no other event) is left out
        send_at(this_hour - timedelta(hours=8))
    load.flush()
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
    )

    etl = graph.run_etl(ranges)

    (evaluation,) = [e for e in etl.get_asset_check_evaluations() if e.check_name == "realtime_matches_batch"]
    assert evaluation.passed, evaluation.metadata
    assert evaluation.metadata["compared"].value is True
    compared = (evaluation.metadata["realtime_events"].value, evaluation.metadata["batch_events"].value)
    assert compared == (75, 75), evaluation.metadata
    assert evaluation.metadata["hours_left_out"].value == 1


def test_the_realtime_check_says_nothing_comparable_instead_of_passing(
    graph, project, stack_settings, stream_worker
):
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema=set(), seed=10)
    for _ in range(5):  # four days back: beyond the hours Redis holds
        load.send(project.project_id, load.event(past_days(4)[0], "page_view"))
    load.flush()
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
    )

    etl = graph.run_etl(graph.pending([project.project_id]))

    (evaluation,) = [e for e in etl.get_asset_check_evaluations() if e.check_name == "realtime_matches_batch"]
    assert not evaluation.passed
    assert evaluation.description.startswith("not compared: nothing comparable")
    assert evaluation.metadata["compared"].value is False


def test_a_deterministic_refusal_names_what_to_do_and_is_not_retried(stack_settings, tmp_path, spark):
    # The instance the stack's daemon runs with (dagster.yaml: run retries on), so the run's
    # retry verdict is the one the daemon would act on.
    home = dagster_instance_home(stack_settings.model_copy(update={"home": tmp_path / "home"}))
    graph = LakeGraph(stack_settings, tmp_path / "lake", dg.DagsterInstance.from_config(str(home)))
    config = {"ops": {"daily_metrics": {"config": {"newest_schemas": True}}}}

    refused = graph.run_daily(past_days(1)[0], run_config=config, raise_on_error=False)

    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.is_step_failure]
    assert "set rederive_validated too" in failure.step_failure_data.user_failure_data.description
    assert not [e for e in refused.all_events if e.is_step_up_for_retry], "not retried in the run"
    run = graph.instance.get_run_by_id(refused.run_id)
    assert run.tags["dagster/will_retry"] == "false", "nor does the daemon launch it again"
