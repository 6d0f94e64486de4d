"""Prometheus metrics of one ingestion service instance (own registry, so tests can build many).
With several workers the values live in files shared by the workers (``web.prometheus``)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from analytics_pipeline.resilience.breaker_gauge import breaker_gauge
from analytics_pipeline.web.prometheus import several_workers


class IngestMetrics:
    def __init__(
        self, breaker_state: Callable[[], float], producer_replacements: Callable[[], float]
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "analytics_http_requests",
            "HTTP requests by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.events = Counter(
            "analytics_events",
            "Events by project and outcome (accepted, duplicate, rejected, throttled, failed).",
            ["project", "outcome"],
            registry=self.registry,
        )
        self.dedup_skipped = Counter(
            "analytics_dedup_skipped_events",
            "Events accepted without a dedup check because Redis was unavailable (fail open).",
            registry=self.registry,
        )
        self.produce_latency = Histogram(
            "analytics_kafka_produce_latency_seconds",
            "Time from handing a request's events to Kafka until acks=all for all of them.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.breaker = breaker_gauge(self.registry)
        self.producer_replacements = Gauge(
            "analytics_kafka_producer_replacements",
            "Kafka producers replaced because a produce failed while the cluster answered (self-healing).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._gauge_sources = (
            (self.breaker, breaker_state),
            (self.producer_replacements, producer_replacements),
        )
        if not several_workers():  # read at each scrape; workers write theirs (refresh_gauges)
            for gauge, source in self._gauge_sources:
                gauge.set_function(source)

    def refresh_gauges(self) -> None:
        """Write this worker's gauges, which the other workers' scrapes cannot call."""
        for gauge, source in self._gauge_sources:
            gauge.set(source())
