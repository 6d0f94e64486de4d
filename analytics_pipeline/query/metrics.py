"""The query service's Prometheus metrics: what answered, from where, how fast."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram

from analytics_pipeline.resilience.breaker_gauge import breaker_gauge


class QueryMetrics:
    def __init__(self, breaker_state: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.breaker = breaker_gauge(self.registry, breaker_state)
        self.sql = Counter(
            "analytics_sql_queries",
            "SQL queries by outcome: cached, computed, refused (rule), overloaded.",
            ["outcome"],
            registry=self.registry,
        )
        self.windows = Counter(
            "analytics_metric_windows",
            "Metric windows answered, by source (cache: Redis, warehouse: the lake).",
            ["source"],
            registry=self.registry,
        )
        self.lake_seconds = Histogram(
            "analytics_lake_query_seconds",
            "Time of the SQL queries the lake answered (cache misses), turn waiting included.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=self.registry,
        )
