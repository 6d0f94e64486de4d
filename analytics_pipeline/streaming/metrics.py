"""Prometheus metrics of one streaming worker (own registry, so tests can build many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class StreamMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "analytics_stream_events",
            "Records by outcome: applied, duplicate (eventId counted from another record), "
            "replayed (this record redelivered, already counted), dead_lettered.",
            ["outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "analytics_stream_dead_letters",
            "Records sent to a dead-letter topic, by stage (decode, contract, aggregate).",
            ["stage"],
            registry=self.registry,
        )
        self.closed_windows = Counter(
            "analytics_stream_closed_window_events",
            "Events not counted at a granularity because their window had already expired.",
            ["granularity"],
            registry=self.registry,
        )
        self.batch_latency = Histogram(
            "analytics_stream_batch_seconds",
            "Time to process one polled batch, from decoding to the offset commit.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "analytics_stream_batch_records",
            "Records per polled batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
            registry=self.registry,
        )
        self.retries = Counter(
            "analytics_stream_batch_retries",
            "Batch attempts that failed on a transient fault, by cause (redis, kafka).",
            ["cause"],
            registry=self.registry,
        )
        self.commit_failures = Counter(
            "analytics_stream_commit_failures",
            "Offset commits refused (rebalance); the batch is redelivered and skipped as duplicates.",
            registry=self.registry,
        )
        self.lag = Gauge(
            "analytics_stream_consumer_lag",
            "Records behind the partition's end, per assigned partition.",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.last_commit = Gauge(
            "analytics_stream_last_commit_timestamp_seconds",
            "Unix time of the last successful offset commit.",
            registry=self.registry,
        )
