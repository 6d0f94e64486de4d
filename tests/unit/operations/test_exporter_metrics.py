"""The exporter's Prometheus text, from one snapshot of what `analytics status` computes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from analytics_pipeline.operations.cluster_health import ReplicaProblem
from analytics_pipeline.operations.exporter_metrics import Snapshot, SnapshotCollector
from analytics_pipeline.operations.group_lag import TopicEnds, group_lags
from analytics_pipeline.operations.status import StatusReport
from tests.support.prometheus import Samples, labels, parse_samples

T = "events.shop"


def scrape(snapshot: Snapshot | None) -> Samples:
    collector = SnapshotCollector()
    collector.snapshot = snapshot
    registry = CollectorRegistry()
    registry.register(collector)
    return parse_samples(generate_latest(registry).decode())


def report() -> StatusReport:
    ends = TopicEnds({(T, 0): 100, (T, 1): 40, ("events.quiet", 0): 0}, {(T, 0): 70, (T, 1): 40})
    lags = group_lags(ends, {"stream-processing": {(T, 0): 90, (T, 1): 40}, "batch-etl": {}})
    replicas = [
        ReplicaProblem("events.dlq.shop", 0, 3, 2, 1),
        ReplicaProblem("metrics.all_events", 4, 3, 0, -1),
    ]
    return StatusReport([], lags, replicas, {"shop": 7}, {"shop": 2}, elections_total={T: 4})


def test_every_figure_per_group_topic_and_partition() -> None:
    rates = {("stream-processing", T, 0): 1.5}
    got = scrape(Snapshot(report(), 1_000.0, 0.25, rates, {T: 4}, last_success=1_000.0))
    assert got["analytics_kafka_up"] == {(): 1.0}
    assert got["analytics_partition_end_offset"] == {
        labels(topic=T, partition="0"): 100,
        labels(topic=T, partition="1"): 40,
        labels(topic="events.quiet", partition="0"): 0,
    }
    assert got["analytics_partition_produce_rate"][labels(topic=T, partition="0")] == 30 / 60
    stream0 = labels(group="stream-processing", topic=T, partition="0")
    assert got["analytics_consumer_group_committed_offset"] == {
        stream0: 90,
        labels(group="stream-processing", topic=T, partition="1"): 40,
    }, "a partition never committed has no committed offset"
    assert got["analytics_consumer_group_lag"][stream0] == 10
    assert got["analytics_consumer_group_lag"][labels(group="batch-etl", topic=T, partition="0")] == 100
    assert got["analytics_consumer_group_consume_rate"] == {stream0: 1.5}
    assert got["analytics_dead_letters"] == {labels(project="shop"): 7, labels(project="quiet"): 0}
    assert got["analytics_dead_letters_waiting"] == {labels(project="shop"): 2, labels(project="quiet"): 0}
    assert got["analytics_under_replicated_partitions"] == {(): 2}
    assert got["analytics_offline_partitions"] == {(): 1}
    assert got["analytics_leader_elections_total"] == {labels(topic=T): 4}
    assert got["analytics_exporter_last_success_timestamp_seconds"] == {(): 1_000.0}


def test_kafka_down_says_so_and_keeps_the_election_counter() -> None:
    down = StatusReport([], kafka_error="connection refused")
    got = scrape(Snapshot(down, 2_000.0, 10.0, {}, {T: 4}, last_success=1_000.0))
    assert got["analytics_kafka_up"] == {(): 0.0}
    assert got["analytics_leader_elections_total"] == {labels(topic=T): 4}
    assert "analytics_consumer_group_lag" not in got, "no figures from a poll that got none"
    assert got["analytics_exporter_last_success_timestamp_seconds"] == {(): 1_000.0}


def test_nothing_is_served_before_the_first_poll() -> None:
    assert scrape(None) == {}


def test_a_hot_partition_is_one_and_the_others_zero() -> None:
    ends = TopicEnds({(T, p): 5_000 for p in range(4)}, {})
    lags = group_lags(ends, {"batch-etl": {(T, 0): 5_000, (T, 1): 5_000, (T, 2): 5_000, (T, 3): 2_000}})
    got = scrape(Snapshot(StatusReport([], lags), 1_000.0, 0.25, {}, {}, last_success=1_000.0))
    assert got["analytics_hot_partition"] == {
        labels(group="batch-etl", topic=T, partition=str(p)): (1 if p == 3 else 0) for p in range(4)
    }
