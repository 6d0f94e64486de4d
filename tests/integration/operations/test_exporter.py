"""`analytics exporter` against the session's Kafka: scraped over HTTP, its figures are exact."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaProducer

from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION, commit_group_offsets, topic_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic, raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.exporter import ExporterProcess
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.process import wait_until
from tests.support.events import new_event
from tests.support.projects import ProjectUnderTest
from tests.support.prometheus import Samples, labels, scrape
from tests.support.raw_events import RawWriter
from tests.support.stack import with_new_ports


@pytest.fixture(scope="module")
def exporter(
    stack_settings: Settings, kafka_broker: KafkaBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExporterProcess]:
    """An exporter on the session's Kafka whose batch-ETL group is one these tests commit by hand."""
    settings = with_new_ports(stack_settings, "exporter").model_copy(
        update={"home": tmp_path_factory.mktemp("exporter"), "etl_group": f"etl-{uuid.uuid4().hex[:8]}"}
    )
    process = ExporterProcess(settings)
    process.ensure_running()
    yield process
    process.stop()


def metrics_url(exporter: ExporterProcess) -> str:
    return f"http://{exporter.host}:{exporter.port}/metrics"


def scrape_when(exporter: ExporterProcess, ready, timeout_s: float = 30.0) -> Samples:
    """Scrape until ``ready(samples)`` holds (the exporter polls every second in tests)."""
    found: dict[str, Samples] = {}

    def check() -> bool:
        found["samples"] = scrape(metrics_url(exporter))
        return bool(ready(found["samples"]))

    assert wait_until(check, timeout_s, 0.5), f"not seen within {timeout_s} s: {found.get('samples')}"
    return found["samples"]


def test_lag_offsets_and_rates_of_a_group_committed_here(
    exporter: ExporterProcess, make_project, stack_settings: Settings
) -> None:
    project: ProjectUnderTest = make_project("exp")
    bootstrap, topic, group = (
        stack_settings.kafka_bootstrap_servers,
        raw_topic(project.project_id),
        exporter.settings.etl_group,
    )
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, [new_event() for _ in range(90)])
    ends = {o.partition: o.latest for o in topic_offsets(bootstrap, topic)}
    assert sum(ends.values()) == 90
    first = {(topic, 0): ends[0] // 2, (topic, 1): ends[1]}  # partition 2: never committed
    committed_at = time.time()
    commit_group_offsets(bootstrap, group, first)

    def key(partition: int) -> tuple[tuple[str, str], ...]:
        return labels(group=group, topic=topic, partition=str(partition))

    got = scrape_when(exporter, lambda s: key(0) in s.get("analytics_consumer_group_committed_offset", {}))
    assert got["analytics_kafka_up"] == {(): 1.0}
    for p, end in ends.items():
        assert got["analytics_partition_end_offset"][labels(topic=topic, partition=str(p))] == end
    mine = {k: v for k, v in got["analytics_consumer_group_committed_offset"].items() if k in map(key, ends)}
    assert mine == {key(0): ends[0] // 2, key(1): ends[1]}, "partition 2 has no committed offset"
    lags = got["analytics_consumer_group_lag"]
    assert [lags[key(p)] for p in range(3)] == [ends[0] - ends[0] // 2, 0, ends[2]]
    produced = sum(
        got["analytics_partition_produce_rate"][labels(topic=topic, partition=str(p))] for p in ends
    )
    assert produced == pytest.approx(90 / 60), "all 90 were appended within the last minute"

    commit_group_offsets(bootstrap, group, {(topic, 0): ends[0]})
    got = scrape_when(
        exporter, lambda s: s["analytics_consumer_group_committed_offset"].get(key(0)) == ends[0]
    )
    moved, elapsed = ends[0] - ends[0] // 2, time.time() - committed_at
    consumed = got["analytics_consumer_group_consume_rate"]
    # measured between two of the exporter's samples: after the first commit, and an interval apart
    assert moved / elapsed <= consumed[key(0)] <= moved / exporter.settings.exporter_interval_s
    assert consumed[key(1)] == 0.0
    assert key(2) not in consumed, "no rate for a partition the group never committed on"
    assert got["analytics_consumer_group_lag"][key(0)] == 0


def test_dead_letters_per_project(exporter: ExporterProcess, make_project, stack_settings: Settings) -> None:
    poisoned, clean = make_project("exp"), make_project("exp")
    producer = KafkaProducer(
        bootstrap_servers=stack_settings.kafka_bootstrap_servers, api_version=KAFKA_API_VERSION
    )
    for i in range(4):
        producer.send(dead_letter_topic(poisoned.project_id), key=f"e{i}".encode(), value=b"not json")
    producer.flush(30)
    producer.close(10)

    got = scrape_when(
        exporter, lambda s: s.get("analytics_dead_letters", {}).get(labels(project=poisoned.project_id)) == 4
    )
    assert got["analytics_dead_letters"][labels(project=clean.project_id)] == 0
    assert got["analytics_dead_letters_waiting"][labels(project=poisoned.project_id)] == 4, "none redriven"
