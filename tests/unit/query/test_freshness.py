"""FreshnessCache: a project's first answer is computed on the spot; later ones come from memory
at once, and a stale one is refreshed in the background (never twice at a time)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from analytics_pipeline.query.freshness import FreshnessCache, KafkaProgress

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


def test_a_probe_that_breaks_unexpectedly_gives_none_and_is_asked_again_later():
    calls = []

    def broken(project_id):
        calls.append(project_id)
        raise ValueError("a record kafka-python could not decode")

    cache = FreshnessCache(broken, ttl_s=0.05)
    assert cache.get("shop") is None
    time.sleep(0.1)
    assert cache.get("shop") is None, "the stale None, at once; a refresh starts"
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    cache.get("shop")
    assert len(calls) >= 2, "the failed refresh did not leave the project marked as refreshing"


def test_a_closed_progress_opens_no_clients():
    progress = KafkaProgress("127.0.0.1:1", "batch-etl", timedelta(seconds=5), timeout_s=0.5)
    progress.close()
    with pytest.raises(KafkaConnectionError):
        progress.complete_up_to("shop")
    assert progress._clients is None
