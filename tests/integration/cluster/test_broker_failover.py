"""Brokers of a 3-node cluster SIGKILLed under a steady load through the ingestion API.

One node down: every event answered 202 is in Kafka exactly once, `analytics status` shows the
under-replicated partitions and the moved leaders, the batch ETL runs with the node down and the
streaming worker goes on, both exact; the restarted node catches up. Two nodes down: the API
answers 503 naming too few in-sync replicas, never 202, and nothing acknowledged is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from pyspark.sql import functions as F

from analytics_pipeline.kafka_io.admin import read_spans
from analytics_pipeline.kafka_io.replicas import partition_replicas
from analytics_pipeline.kafka_io.topics import project_topics, raw_topic
from analytics_pipeline.loadgen.steady import SteadyLoad, fault_window
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import wait_until
from tests.integration.faults.test_stream_worker_faults import assert_redis_matches
from tests.support.consumer_group import wait_caught_up
from tests.support.kafka_reader import read_topic
from tests.support.lakehouse_dagster import LakeGraph

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

RATE = 40  # events offered per second
ANALYTICS = str(Path(sys.executable).with_name("analytics"))


def replicas_of(settings: Settings, topics: list[str]):
    try:
        return partition_replicas(settings.kafka_bootstrap_servers, topics, timeout_s=5.0)
    except Exception:  # noqa: BLE001 - a node just died: ask again
        return []


def out_of_every_isr(settings: Settings, topics: list[str], node: int) -> bool:
    partitions = replicas_of(settings, topics)
    return bool(partitions) and all(node not in p.in_sync and p.leader >= 0 for p in partitions)


def all_in_sync(settings: Settings, topics: list[str]) -> bool:
    """Every partition of every topic has its 3 replicas in sync."""
    partitions = replicas_of(settings, topics)
    covered = {p.topic for p in partitions} == set(topics)
    return covered and all(len(p.in_sync) == len(p.replicas) == 3 for p in partitions)


def status_json(settings: Settings, *, expect_alarms: bool = True) -> dict:
    env = {**os.environ, **settings.as_environment()}
    result = subprocess.run(
        [ANALYTICS, "status", "--json"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if expect_alarms:  # a node down (and no Dagster here)
        assert result.returncode == 3, result.stderr
    return json.loads(result.stdout)


def assert_exactly_once(settings: Settings, topic: str, load: SteadyLoad) -> list[dict]:
    """Kafka holds each settled event (answered 202, or 409 after an earlier attempt) once, and
    nothing else; returns the stored events."""
    stored = read_topic(settings.kafka_bootstrap_servers, topic)
    counts = Counter(s.key for s in stored)
    assert not load.given_up
    assert not load.rejected
    assert load.acknowledged, "the load was answered 202"
    assert load.acknowledged <= set(counts), "every 202 is in Kafka"
    assert set(counts) == load.settled, "and only the events the API settled"
    doubled = {k for k, n in counts.items() if n > 1}
    assert not doubled, [
        (a.event_id[-6:], round(a.sent_at, 1), round(a.seconds, 1), a.status, a.error)
        for a in load.answers
        if a.event_id in doubled
    ][:20]
    return [s.value for s in stored]


def test_one_broker_killed_under_load(  # noqa: PLR0917 - fixtures
    cluster, cluster_ingest, cluster_worker, cluster_store, cluster_settings, spark, tmp_path
):
    settings = cluster_settings
    project_id = f"one-down-{uuid.uuid4().hex[:8]}"
    project = provision_project(settings, cluster_store, project_id)
    topic, topics = raw_topic(project_id), [t.name for t in project_topics(project_id, settings)]
    assert wait_until(lambda: all_in_sync(settings, topics), 30, 0.5), "3 replicas, all in sync"
    load = SteadyLoad(cluster_ingest.url, project.api_key, rate=RATE).start()
    status_json(settings, expect_alarms=False)  # the election log notes every leader epoch
    time.sleep(3)
    victim = replicas_of(settings, [topic])[0].leader
    killed_at = time.monotonic()
    cluster.node(victim).process.kill()

    assert wait_until(lambda: out_of_every_isr(settings, topics, victim), 60, 0.5), "fenced, ISR shrunk"
    report = status_json(settings)
    services = {s["name"]: s["healthy"] for s in report["services"]}
    assert {name: services[name] for name in ("kafka-1", "kafka-2", "kafka-3")} == {
        f"kafka-{n}": n != victim for n in (1, 2, 3)
    }
    mine = {p["partition"]: p for p in report["replica_problems"] if p["topic"] == topic}
    assert set(mine) == {0, 1, 2}, "every partition of the raw topic is under-replicated"
    assert all((p["in_sync"], p["replicas"], p["kind"]) == (2, 3, "under-replicated") for p in mine.values())
    moved = [p for p in mine.values() if p["preferred_leader"] == victim]
    assert moved, "the victim was the preferred leader of a partition"
    assert all(p["leader"] not in (victim, -1) for p in moved), "a new leader was elected"
    assert any("instead of" in alarm for alarm in report["alarms"])
    assert any(a.startswith(f"recent leader elections: {topic}/") for a in report["alarms"])

    graph = LakeGraph(settings, tmp_path / "lake")  # the batch ETL, with the node still down
    ranges = graph.pending([project_id])
    etl = graph.run_etl(ranges)
    assert etl.success
    records = read_spans(
        settings.kafka_bootstrap_servers, {(r.topic, r.partition): (r.start, r.end) for r in ranges}, 60.0
    )
    tables = graph.defs.resources["lakehouse"].tables
    validated = (
        spark.read.format("delta").load(tables.validated_events).where(F.col("projectId") == project_id)
    )
    assert sorted(r.eventId for r in validated.select("eventId").collect()) == sorted(
        r.key.decode() for r in records
    )

    cluster.node(victim).ensure_running()
    assert wait_until(lambda: all_in_sync(settings, topics), 120, 0.5), "the restarted node caught up"
    load.stop()
    window = fault_window(load.answers, killed_at)
    print(
        f"\none of three killed: 503s for {window.refused_s:.1f} s ({window.refused}), slow answers for "
        f"{window.slow_s:.1f} s ({window.slow}), {len(load.settled)} events settled"
    )
    stored = assert_exactly_once(settings, topic, load)

    wait_caught_up(settings.kafka_bootstrap_servers, settings.stream_group, topic, 180)
    assert_redis_matches(redis.Redis.from_url(settings.redis_url), project_id, stored)


def test_two_brokers_killed_answers_503_and_loses_nothing(
    cluster, cluster_ingest, cluster_store, cluster_settings
):
    settings = cluster_settings
    project_id = f"two-down-{uuid.uuid4().hex[:8]}"
    project = provision_project(settings, cluster_store, project_id)
    topics = [t.name for t in project_topics(project_id, settings)]
    load = SteadyLoad(cluster_ingest.url, project.api_key, rate=RATE).start()
    time.sleep(3)
    killed_at = time.monotonic()
    for node in (2, 3):
        cluster.node(node).process.kill()
    time.sleep(12)
    restarted_at = time.monotonic()

    during = [a for a in load.answers if a.sent_at > killed_at + 0.5 and a.answered_at < restarted_at]
    assert during
    assert not [a for a in during if a.status == 202], "no acks=all with one of three replicas"
    assert {a.status for a in during} == {503}
    refusals = [a.message for a in during if a.error == "kafka_unavailable"]
    assert refusals
    assert all("too few in-sync replicas" in m for m in refusals), refusals[:1]

    cluster.ensure_running()
    assert wait_until(lambda: all_in_sync(settings, topics), 120, 0.5)
    load.stop()
    assert_exactly_once(settings, raw_topic(project_id), load)
