"""Settings for the services the tests start: a private stack, tuned for quick tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import isolated
from analytics_pipeline.stack.isolated import with_new_ports

__all__ = ["isolated_settings", "with_new_ports"]

TEST_SETTINGS: dict[str, Any] = {
    "kafka_broker_heap": "512m",
    "kafka_produce_timeout_s": 3.0,
    "redis_maxmemory": "256mb",
    "rate_limit_project": "100000/second",
    "schema_local_ttl_s": 0.5,
    "api_key_cache_ttl_s": 1.0,
    # Windows live 60 widths (1m: an hour), so tests can check exact counts over many windows;
    # events older than that test the closed-window rule.
    "metric_ttl_windows": 60.0,
    "stream_topic_refresh_s": 1.0,
    "stream_poll_timeout_ms": 200,
    "stream_retry_budget_s": 10.0,
    "stream_report_interval_s": 2.0,
    "stream_stall_timeout_s": 20.0,  # a stuck worker is replaced well within a test's wait
    "exporter_interval_s": 1.0,
}


def isolated_settings(home: Path, **overrides: Any) -> Settings:
    return isolated.isolated_settings(home, **{**TEST_SETTINGS, **overrides})


class _Startable(Protocol):
    def ensure_running(self) -> Any: ...

    def stop(self) -> Any: ...


S = TypeVar("S", bound=_Startable)


def running(service: S) -> Iterator[S]:
    """A fixture's body: the service started (unless it runs), yielded, then stopped."""
    service.ensure_running()
    yield service
    service.stop()
