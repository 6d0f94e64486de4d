"""The exporter's figures as Prometheus metric families, built from its latest poll of Kafka.

A custom collector rather than Gauges set by the loop: each scrape shows exactly one poll, and
a topic, group or project that went away leaves no stale series behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics_pipeline.operations.cluster_health import raw_projects
from analytics_pipeline.operations.consume_rate import GroupPartition
from analytics_pipeline.operations.status import StatusReport


@dataclass(frozen=True)
class Snapshot:
    """One poll: the Kafka half of ``analytics status``, and what the exporter adds to it."""

    report: StatusReport
    polled_at: float  # Unix seconds
    poll_seconds: float
    consume_rates: dict[GroupPartition, float] = field(default_factory=dict)
    elections_total: dict[str, int] = field(default_factory=dict)  # kept across a Kafka outage
    last_success: float | None = None  # when Kafka last answered a poll

    @property
    def kafka_up(self) -> bool:
        return self.report.kafka_error is None


def metric_families(snapshot: Snapshot) -> list[Metric]:
    families = _exporter_families(snapshot)
    if snapshot.kafka_up:
        families += _partition_families(snapshot) + _group_families(snapshot) + _cluster_families(snapshot)
    elections = CounterMetricFamily(
        "analytics_leader_elections",
        "Leader changes of a topic's partitions (leader-epoch increases) since the exporter's state "
        "began; a lone broker's restart counts two per partition: leaderless, then led again",
        labels=["topic"],
    )
    for topic, count in snapshot.elections_total.items():
        elections.add_metric([topic], count)
    return [*families, elections]


def _exporter_families(snapshot: Snapshot) -> list[Metric]:
    up = GaugeMetricFamily("analytics_kafka_up", "1 when Kafka answered the exporter's last poll, else 0")
    up.add_metric([], 1.0 if snapshot.kafka_up else 0.0)
    seconds = GaugeMetricFamily("analytics_exporter_poll_seconds", "How long the last poll of Kafka took")
    seconds.add_metric([], snapshot.poll_seconds)
    success = GaugeMetricFamily(
        "analytics_exporter_last_success_timestamp_seconds", "When Kafka last answered a poll (Unix time)"
    )
    if snapshot.last_success is not None:
        success.add_metric([], snapshot.last_success)
    return [up, seconds, success]


def _partition_families(snapshot: Snapshot) -> list[Metric]:
    labels = ["topic", "partition"]
    end = GaugeMetricFamily(
        "analytics_partition_end_offset",
        "Offset the next record of a raw-topic partition gets; it only grows: rate() is the produce rate",
        labels=labels,
    )
    produce = GaugeMetricFamily(
        "analytics_partition_produce_rate",
        "Records appended to a raw-topic partition per second over the last minute (offsets-for-times)",
        labels=labels,
    )
    seen: set[tuple[str, int]] = set()
    for row in snapshot.report.lags:
        if (row.topic, row.partition) not in seen:
            seen.add((row.topic, row.partition))
            end.add_metric([row.topic, str(row.partition)], row.end)
            produce.add_metric([row.topic, str(row.partition)], row.events_per_s)
    return [end, produce]


def _group_families(snapshot: Snapshot) -> list[Metric]:
    labels = ["group", "topic", "partition"]
    committed = GaugeMetricFamily(
        "analytics_consumer_group_committed_offset",
        "Offset a pipeline consumer group committed on a raw-topic partition (absent: never committed)",
        labels=labels,
    )
    lag = GaugeMetricFamily(
        "analytics_consumer_group_lag",
        "Records of a raw-topic partition the group has not committed (end offset - committed offset)",
        labels=labels,
    )
    consume = GaugeMetricFamily(
        "analytics_consumer_group_consume_rate",
        "Records a group committed on a raw-topic partition per second over about the last minute",
        labels=labels,
    )
    hot = GaugeMetricFamily(
        "analytics_hot_partition",
        "1 while the group's lag on the partition is above the factor times its topic's average "
        "(ANALYTICS_HOT_PARTITION_*); alert with `for: 5m` for the design's sustained rule",
        labels=labels,
    )
    for row in snapshot.report.lags:
        values = [row.group, row.topic, str(row.partition)]
        lag.add_metric(values, row.lag)
        hot.add_metric(values, 1 if row.hot else 0)
        if row.committed is not None:
            committed.add_metric(values, row.committed)
        rate = snapshot.consume_rates.get((row.group, row.topic, row.partition))
        if rate is not None:
            consume.add_metric(values, rate)
    return [committed, lag, consume, hot]


def _cluster_families(snapshot: Snapshot) -> list[Metric]:
    report = snapshot.report
    letters = GaugeMetricFamily(
        "analytics_dead_letters",
        "Dead letters a project's topic events.dlq.{project} holds (written minus expired)",
        labels=["project"],
    )
    waiting = GaugeMetricFamily(
        "analytics_dead_letters_waiting",
        "Dead letters a project's topic holds that were never redriven (analytics dlq redrive)",
        labels=["project"],
    )
    for project in raw_projects([row.topic for row in report.lags]):
        letters.add_metric([project], report.dead_letters.get(project, 0))
        waiting.add_metric([project], report.waiting_letters.get(project, 0))
    under = GaugeMetricFamily(
        "analytics_under_replicated_partitions",
        "Partitions of any topic with fewer in-sync replicas than replicas",
    )
    under.add_metric([], sum(1 for p in report.replicas if p.in_sync < p.replicas))
    offline = GaugeMetricFamily("analytics_offline_partitions", "Partitions of any topic without a leader")
    offline.add_metric([], sum(1 for p in report.replicas if p.leader < 0))
    return [letters, waiting, under, offline]


class SnapshotCollector(Collector):
    """Serves the latest snapshot; nothing before the first poll has finished."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot  # one read: the loop may replace it meanwhile
        if snapshot is not None:
            yield from metric_families(snapshot)
