"""The Redis breaker's state as a Prometheus gauge, the same in every service that has one."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge


def breaker_gauge(registry: CollectorRegistry, state: Callable[[], float]) -> Gauge:
    gauge = Gauge(
        "analytics_redis_breaker_state",
        "Redis circuit breaker: 0 closed, 1 half-open, 2 open.",
        registry=registry,
    )
    gauge.set_function(state)
    return gauge
