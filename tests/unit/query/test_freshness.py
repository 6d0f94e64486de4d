"""FreshnessCache: a project's first answer is computed on the spot; later ones come from memory
at once, and a stale one is refreshed in the background (never twice at a time)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from kafka.errors import KafkaTimeoutError

from analytics_pipeline.query.freshness import FreshnessCache

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_stale_answers_are_served_at_once_and_refreshed_in_the_background():
    calls, release = [], threading.Event()

    def compute(project_id):
        calls.append(project_id)
        if len(calls) > 1:
            release.wait(5)  # a slow Kafka: the request must not wait for it
        return T0 + timedelta(seconds=len(calls))

    cache = FreshnessCache(compute, ttl_s=0.3)
    assert cache.get("shop") == T0 + timedelta(seconds=1)
    time.sleep(0.35)
    started = time.perf_counter()
    assert cache.get("shop") == T0 + timedelta(seconds=1), "the stale value, at once"
    assert cache.get("shop") == T0 + timedelta(seconds=1)
    assert time.perf_counter() - started < 0.5
    release.set()
    deadline = time.monotonic() + 5
    while cache.get("shop") != T0 + timedelta(seconds=2) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("shop") == T0 + timedelta(seconds=2)
    assert calls == ["shop", "shop"], "one refresh at a time"


def test_kafka_that_cannot_tell_gives_none():
    def fail(_project_id):
        raise KafkaTimeoutError("no broker")

    assert FreshnessCache(fail).get("shop") is None
