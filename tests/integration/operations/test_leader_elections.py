"""A broker restart seen by the exporter (counter) and by `analytics status` (alarm), on a broker
of the test's own; the exporter rides out the outage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_pipeline.kafka_io.admin import ensure_topics
from analytics_pipeline.kafka_io.topics import project_topics, raw_topic
from analytics_pipeline.operations.cluster_health import describe_topics
from analytics_pipeline.operations.leader_elections import leaders_in, partition_ranges
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.exporter import ExporterProcess
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.process import wait_until
from tests.support.prometheus import labels, scrape
from tests.support.stack import with_new_ports

pytestmark = pytest.mark.slow

ANALYTICS = str(Path(sys.executable).with_name("analytics"))
PROJECT = "elections"


@pytest.fixture
def own_kafka(stack_settings: Settings, tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker (and a stack home) of this test's own, so restarting it disturbs no other test."""
    settings = with_new_ports(stack_settings, "kafka", "exporter").model_copy(update={"home": tmp_path})
    broker = KafkaBroker(settings)
    broker.ensure_running()
    yield broker
    broker.stop()


@pytest.fixture
def exporter(own_kafka: KafkaBroker) -> Iterator[ExporterProcess]:
    process = ExporterProcess(own_kafka.settings)
    process.ensure_running()
    yield process
    process.stop()


def epochs(bootstrap: str, topic: str) -> dict[int, int]:
    return {p.partition: p.epoch for p in leaders_in(describe_topics(bootstrap)) if p.topic == topic}


def test_a_broker_restart_is_counted_and_alarmed(own_kafka: KafkaBroker, exporter: ExporterProcess) -> None:
    settings, topic = own_kafka.settings, raw_topic(PROJECT)
    ensure_topics(settings.kafka_bootstrap_servers, project_topics(PROJECT, settings))
    url = f"http://{exporter.host}:{exporter.port}/metrics"
    elections = labels(topic=topic)

    assert wait_until(lambda: scrape(url).get("analytics_leader_elections_total", {}).get(elections) == 0, 30)
    before = epochs(settings.kafka_bootstrap_servers, topic)

    own_kafka.process.kill()
    assert wait_until(lambda: scrape(url).get("analytics_kafka_up") == {(): 0.0}, 60), "it says Kafka is down"
    assert scrape(url)["analytics_leader_elections_total"][elections] == 0, "the counter outlives the outage"
    own_kafka.ensure_running()

    after: dict[int, int] = {}

    def counted() -> bool:
        after.update(epochs(settings.kafka_bootstrap_servers, topic))
        got = scrape(url)
        expected = sum(after[p] - before[p] for p in before)
        return (
            got.get("analytics_kafka_up") == {(): 1.0}
            and got["analytics_leader_elections_total"][elections] == expected
        )

    assert wait_until(counted, 60), f"epochs {before} -> {after}, scrape {scrape(url)}"
    assert all(after[p] > before[p] for p in before), "the restart elected every partition's leader again"
    assert "restarting" not in exporter.process.log_tail(200), "the exporter never crashed"

    env = {**os.environ, **settings.as_environment()}
    result = subprocess.run(
        [ANALYTICS, "status", "--json"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    report = json.loads(result.stdout)
    recent = {e["topic"]: e["partitions"] for e in report["leader_elections"]["recent"]}
    assert recent[topic] == sorted(before)
    assert report["leader_elections"]["total"][topic] == sum(after[p] - before[p] for p in before)
    assert any(
        a.startswith(f"recent leader elections: {topic}/{partition_ranges(before)}, latest ")
        for a in report["alarms"]
    )
    assert result.returncode == 3
