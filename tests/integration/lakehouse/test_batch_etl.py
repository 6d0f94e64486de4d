"""The batch ETL on real Kafka and Spark with Delta: a rerun over the same ranges changes nothing,
and a later batch's repeats of earlier events are dropped, within the receive window."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.batch_etl import run_batch
from analytics_pipeline.lakehouse.delta_tables import latest_commit
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, pending_ranges
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.reconcile import reconcile_batch
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from tests.support.events import new_event
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.raw_events import RawWriter, raw_record

pytestmark = pytest.mark.integration


def rules_of(settings) -> QualityRules:
    return QualityRules.of(
        max_event_age_s=settings.max_event_age_s, max_future_skew_s=settings.max_future_skew_s
    )


def plan(settings, project_ids, committed=None) -> list[OffsetRange]:
    ends = {
        (raw_topic(p), o.partition): o.latest
        for p in project_ids
        for o in topic_offsets(settings.kafka_bootstrap_servers, raw_topic(p))
    }
    return pending_ranges(committed or {}, ends)


@pytest.fixture
def lake(tmp_path) -> LakeTables:
    return LakeTables(str(tmp_path / "lake"))


@pytest.fixture
def two_projects(make_project, metadata_store):
    shop, blog = make_project("shop"), make_project("blog")
    metadata_store.register_schema(shop.project_id, "purchase", PURCHASE_SCHEMA)
    return shop.project_id, blog.project_id


def table(spark, path):
    return spark.read.format("delta").load(path)


def test_the_same_ranges_again_add_nothing_and_later_duplicates_are_dropped(
    spark, stack_settings, metadata_store, lake, two_projects
):
    day = utc_now().date() - timedelta(days=1)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={two_projects[0]}, seed=11)
    load.mixed(list(two_projects), [day], events=120)
    load.flush()
    first = plan(stack_settings, two_projects)
    schemas = metadata_store.all_schemas(two_projects)
    bootstrap = stack_settings.kafka_bootstrap_servers
    rules = rules_of(stack_settings)
    run_batch(spark, bootstrap, first, lake, schemas, rules)
    snapshot = {name: table(spark, path).count() for name, path in vars_of(lake).items()}

    again = run_batch(spark, bootstrap, first, lake, schemas, rules)  # a retried run over the same ranges

    assert (again.bronze_added, again.validated_added, again.quarantine_added) == (0, 0, 0)
    assert {name: table(spark, path).count() for name, path in vars_of(lake).items()} == snapshot

    for index in range(10):  # repeats of events the first batch held, in a later batch
        load.resend(index)
    load.send(two_projects[1], load.event(day))
    load.flush()
    committed = {(r.topic, r.partition): r.end for r in first}
    quarantine_version = latest_commit(spark, lake.quarantined_events)["version"]
    later = run_batch(spark, bootstrap, plan(stack_settings, two_projects, committed), lake, schemas, rules)

    assert later.records_read == 11
    assert (later.validated_added, later.duplicates_dropped) == (1, 10)
    assert (later.quarantined, later.quarantine_added) == (0, 0)
    # a batch with no failed record makes no quarantine commit
    assert latest_commit(spark, lake.quarantined_events)["version"] == quarantine_version
    validated = table(spark, lake.validated_events)
    assert validated.count() == len(load.expected.events)
    assert validated.select("projectId", "eventId").distinct().count() == len(load.expected.events)


def vars_of(lake: LakeTables) -> dict[str, str]:
    return {
        "bronze": lake.bronze_events,
        "validated": lake.validated_events,
        "quarantined": lake.quarantined_events,
    }


def test_reconciliation_catches_rows_written_twice(spark, stack_settings, lake, two_projects):
    day = utc_now().date() - timedelta(days=1)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={two_projects[0]}, seed=21)
    load.mixed(list(two_projects), [day], events=40)
    load.flush()
    servers, ranges = stack_settings.kafka_bootstrap_servers, plan(stack_settings, two_projects)
    report = run_batch(spark, servers, ranges, lake, [], rules_of(stack_settings))

    def reconcile():
        return reconcile_batch(
            spark, lake, report.batch_id, report.records_read, report.event_dates, report.projects
        )

    clean = reconcile()
    assert clean.balanced, clean

    append_again(spark, lake.bronze_events, rows=3)
    bronze_twice = reconcile()
    assert not bronze_twice.balanced
    assert (bronze_twice.doubled, bronze_twice.events_doubled) == (3, 0)

    append_again(spark, lake.validated_events, rows=3, leave_out=load.resent)  # events read at one position
    validated_twice = reconcile()
    assert validated_twice.events_doubled == 3  # three events now have two rows each
    assert validated_twice.doubled >= 3


def append_again(spark, path: str, rows: int, leave_out: set[str] = frozenset()) -> None:
    """A write applied twice, as a hand-run job or a reset cursor would do it."""
    chosen = table(spark, path)
    if leave_out:
        chosen = chosen.where(~F.col("eventId").isin(sorted(leave_out)))
    chosen.limit(rows).write.format("delta").mode("append").save(path)


def test_copies_are_dropped_within_the_receive_window_and_the_same_record_whenever_read(
    spark, stack_settings, lake, make_project
):
    """Later batches hold the same record again (a redrive: the same receivedAt, read 6 h later),
    a client's retry received 30 min after its first copy, and, in a batch of its own, one
    received 3 h after it: outside the 1 h window, so validated_events takes that copy too."""
    project = make_project("window").project_id
    first_received = utc_now() - timedelta(hours=6)
    events = [new_event(timestamp=format_rfc3339(first_received - timedelta(minutes=1))) for _ in range(3)]
    redriven, soon, late = events
    servers, committed = stack_settings.kafka_bootstrap_servers, {}

    def batch(copies: list[tuple[dict, datetime]]):
        with RawWriter(servers) as writer:
            for event, received in copies:
                writer.bytes(project, *raw_record(project, event, received_at=received), flush=False)
        ranges = plan(stack_settings, [project], committed)
        committed.update({(r.topic, r.partition): r.end for r in ranges})
        report = run_batch(spark, servers, ranges, lake, [], rules_of(stack_settings))
        return report.valid, report.validated_added

    assert batch([(event, first_received) for event in events]) == (3, 3)
    assert batch([(redriven, first_received), (soon, first_received + timedelta(minutes=30))]) == (2, 0)
    assert batch([(late, first_received + timedelta(hours=3))]) == (1, 1)

    rows = table(spark, lake.validated_events).where(F.col("projectId") == project)
    assert Counter(r.eventId for r in rows.collect()) == {
        redriven["eventId"]: 1,
        soon["eventId"]: 1,
        late["eventId"]: 2,
    }
