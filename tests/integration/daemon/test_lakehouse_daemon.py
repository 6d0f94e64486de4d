"""The lakehouse's correctness through the real daemon and run queue, on the folder's private
stack (sensors ticking every 5 s):

- two tenants send at once; one has no schema and sends purchases without a usable currency:
  those are quarantined, and both tenants' daily metrics land, exact;
- a stricter schema registered between the 202s and the ETL run loses no accepted event;
- two ETL runs launched at once write their batches one after the other (the `lake` pool), and
  the tables stay exact.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from keys import BATCH_OP
from sensors.kafka_offsets import batch_run_config
from tests.support.cli import analytics
from tests.support.dagster_graphql import launch_run, step_times, stop_sensor, wait_finished
from tests.support.events import new_event
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(900)]

SEATS_V1 = {"type": "object", "properties": {"seats": {"type": "integer", "maximum": 10}}}
SEATS_V2 = {"type": "object", "properties": {"seats": {"type": "integer", "maximum": 5}}}


def new_project(settings: Settings, name: str) -> tuple[str, dict[str, str]]:
    created = analytics(settings, "project", "create", f"{name} {uuid.uuid4().hex[:6]}", "--json")
    assert created.returncode == 0, created.stderr
    answer = json.loads(created.stdout)
    return answer["project_id"], {"Authorization": f"Bearer {answer['api_key']}"}


def send(settings: Settings, auth: dict[str, str], events: list[dict]) -> None:
    response = httpx.post(
        f"{settings.ingest_api_url}/v1/batch", json={"events": events}, headers=auth, timeout=30
    )
    assert response.status_code == 202, response.text
    assert len(response.json()["accepted"]) == len(events), response.json()


def at(day, n: int) -> str:
    return f"{day.isoformat()}T{10 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"


def daily_events(spark, lake: LakeTables, day, project_ids: list[str]) -> dict[str, int]:
    # Not DeltaTable.isDeltaTable: it caches "no table" for a path, and another process makes this one.
    try:
        rows = spark.read.format("delta").load(lake.daily_metrics)
    except AnalysisException:  # no daily_metrics run has committed yet
        return {}
    wanted = rows.where((F.col("metricDate") == F.lit(day)) & F.col("projectId").isin(project_ids))
    return {r.projectId: r.events for r in wanted.collect()}


def test_two_tenants_a_careless_one_and_a_stricter_schema_lose_nothing_and_hold_back_no_one(
    daemon_stack: Settings, spark
):
    day = utc_now().date() - timedelta(days=1)
    clean, clean_auth = new_project(daemon_stack, "clean")
    careless, careless_auth = new_project(daemon_stack, "careless")
    store = MetadataStore(daemon_stack.metadata_database_url)
    try:
        store.register_schema(clean, "purchase", PURCHASE_SCHEMA)
        store.register_schema(clean, "trial_started", SEATS_V1)
        page_views = [new_event(timestamp=at(day, n)) for n in range(30)]
        purchases = [
            new_event(eventType="purchase", timestamp=at(day, n), properties={"amount": 5, "currency": "EUR"})
            for n in range(5)
        ]
        trials = [
            new_event(eventType="trial_started", timestamp=at(day, n), properties={"seats": 9})
            for n in range(10)
        ]
        send(daemon_stack, clean_auth, page_views + purchases + trials)
        careless_purchases = [
            new_event(eventType="purchase", timestamp=at(day, n), properties=properties)
            for n, properties in enumerate([{"amount": 5}] * 4 + [{"amount": 5, "currency": "XXX"}] * 4)
        ]
        careless_views = [new_event(timestamp=at(day, n)) for n in range(30)]
        send(daemon_stack, careless_auth, careless_views + careless_purchases)
        store.register_schema(clean, "trial_started", SEATS_V2)  # after the 202s, before any ETL run
        registered = datetime.now(UTC)
    finally:
        store.close()

    lake = LakeTables(daemon_stack.lake_root)
    deadline = time.monotonic() + 420
    landed: dict[str, int] = {}
    while time.monotonic() < deadline:
        landed = daily_events(spark, lake, day, [clean, careless])
        if landed == {clean: 45, careless: 30}:
            break
        time.sleep(3)
    assert landed == {clean: 45, careless: 30}, (
        "every accepted event of the clean tenant, the careless one's good ones"
    )

    bronze = spark.read.format("delta").load(lake.bronze_events).where(F.col("projectId") == clean)
    assert bronze.agg(F.min("ingestedAt")).first()[0].replace(tzinfo=UTC) > registered, (
        "the ETL ran after v2 was registered"
    )
    validated = spark.read.format("delta").load(lake.validated_events)
    trials_kept = validated.where((F.col("projectId") == clean) & (F.col("eventType") == "trial_started"))
    assert {r.schemaVersion for r in trials_kept.collect()} == {1}
    assert trials_kept.count() == 10
    quarantined = spark.read.format("delta").load(lake.quarantined_events)
    assert quarantined.where(F.col("projectId") == clean).count() == 0
    assert dict(quarantined.where(F.col("projectId") == careless).groupBy("reason").count().collect()) == {
        "purchase_expectations: purchase currency known (got <missing>)": 4,
        "purchase_expectations: purchase currency known (got XXX)": 4,
    }


def test_two_etl_runs_launched_at_once_write_their_batches_one_after_the_other(daemon_stack: Settings, spark):
    stop_sensor(daemon_stack.dagster_url, "kafka_offsets_sensor")  # the two runs below are the only readers
    project, _auth = new_project(daemon_stack, "pool")
    day = utc_now().date() - timedelta(days=1)
    load = LakeLoad(daemon_stack.kafka_bootstrap_servers, with_schema=set(), seed=13)
    for _ in range(300):
        load.send(project, load.event(day, "page_view"))
    load.flush()
    topic = raw_topic(project)
    middle = {o.partition: o.latest for o in topic_offsets(daemon_stack.kafka_bootstrap_servers, topic)}
    for index in range(30):  # repeats of the first run's events, read by the second
        load.resend(index)
    load.flush()
    end = {o.partition: o.latest for o in topic_offsets(daemon_stack.kafka_bootstrap_servers, topic)}
    first = [OffsetRange(topic, p, 0, middle[p]) for p in sorted(middle) if middle[p]]
    second = [OffsetRange(topic, p, middle[p], end[p]) for p in sorted(end) if end[p] > middle[p]]

    run_ids = [
        launch_run(daemon_stack.dagster_url, "kafka_batch_etl", batch_run_config(ranges))
        for ranges in (first, second)
    ]
    runs = sorted(wait_finished(daemon_stack.dagster_url, run_ids, timeout_s=480), key=lambda r: r.start or 0)

    assert [r.status for r in runs] == ["SUCCESS", "SUCCESS"], runs
    writes = sorted(
        (step_times(daemon_stack.dagster_url, r.run_id, BATCH_OP) for r in runs), key=lambda w: w.start
    )
    assert writes[1].start >= writes[0].end, f"the two batches were written at once: {writes}"
    lake = LakeTables(daemon_stack.lake_root)
    bronze = spark.read.format("delta").load(lake.bronze_events).where(F.col("projectId") == project)
    assert bronze.count() == 330
    validated = spark.read.format("delta").load(lake.validated_events).where(F.col("projectId") == project)
    assert validated.count() == validated.select("eventId").distinct().count() == 300
