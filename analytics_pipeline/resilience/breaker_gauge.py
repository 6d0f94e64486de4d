"""The Redis breaker's state as a Prometheus gauge, the same in every service that has one."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge


def breaker_gauge(registry: CollectorRegistry, state: Callable[[], float] | None = None) -> Gauge:
    """Read from ``state`` at each scrape; without it, set by the service (with several
    workers, each sets its own and the worst is shown)."""
    gauge = Gauge(
        "analytics_redis_breaker_state",
        "Redis circuit breaker: 0 closed, 1 half-open, 2 open.",
        registry=registry,
        multiprocess_mode="max",
    )
    if state is not None:
        gauge.set_function(state)
    return gauge
