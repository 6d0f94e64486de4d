"""The two ceilings the worker is compared with: reading Kafka bare, and a naive client's Redis writes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import redis
from kafka import KafkaConsumer
from redis.client import Pipeline

from analytics_pipeline.events.raw_record import RawEvent
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION
from analytics_pipeline.realtime.layout import COUNT_FIELD, MetricWindow, metrics_of, processed_key
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.settings import Settings
from bench.common import BenchError, Result
from bench.stream.progress import progress_bar

REDIS_CHUNK = 1_000


def bench_bare_consumer(settings: Settings, topic: str, expected: int) -> Result:
    """Baseline A: the ceiling of reading the topic in Python, group join included as for the worker."""
    with progress_bar() as progress:
        task = progress.add_task("baseline A: bare KafkaConsumer", total=expected)
        started = time.perf_counter()
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            api_version=KAFKA_API_VERSION,
            group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_poll_records=settings.stream_max_batch,
        )
        read, deadline = 0, time.monotonic() + 120
        while read < expected:
            read += sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
            progress.update(task, completed=read)
            if time.monotonic() > deadline:
                raise BenchError(f"the bare consumer read {read:,} of {expected:,} records in 120 s")
        elapsed = time.perf_counter() - started
    consumer.close(autocommit=False)
    return Result("baseline A: bare KafkaConsumer, no processing", read, elapsed, [])


def queue_naive_writes(
    pipe: Pipeline, project_id: str, event: RawEvent, settings: Settings, now_s: float
) -> int:
    """Per event what apply_batch.lua does per batch; returns the commands queued.

    Naive: it counts without reading the mark's answer (that would cost a round trip per event),
    and pushes the expiry on every write. Closed windows are skipped, as the script skips them.
    """
    pipe.set(processed_key(project_id, event.event_id), 1, nx=True, ex=settings.stream_processed_ttl_s)
    queued = 1
    for granularity in Granularity:
        start = window_start(event.timestamp, granularity)
        for metric in metrics_of(event.event_type):
            window = MetricWindow(project_id, metric, granularity, start)
            expire_at = int(window.expires_at(settings.metric_ttl_windows).timestamp())
            if expire_at <= now_s:
                continue
            if window.counts_events:
                pipe.hincrby(window.key, COUNT_FIELD, 1)
                pipe.expireat(window.key, expire_at)
                queued += 2
            pipe.pfadd(window.users_key, event.user_id)
            pipe.expireat(window.users_key, expire_at)
            queued += 2
    return queued


def bench_naive_redis(settings: Settings, project_id: str, events: Sequence[RawEvent]) -> tuple[Result, int]:
    """Baseline B: the same writes without a script; key building is timed, as a client must do it."""
    client = redis.Redis.from_url(settings.redis_url)
    commands, now_s = 0, time.time()
    with progress_bar() as progress:
        task = progress.add_task("baseline B: naive pipelined Redis", total=len(events))
        started = time.perf_counter()
        for first in range(0, len(events), REDIS_CHUNK):
            pipe = client.pipeline(transaction=False)
            for event in events[first : first + REDIS_CHUNK]:
                commands += queue_naive_writes(pipe, project_id, event, settings, now_s)
            pipe.execute()
            progress.update(task, completed=min(first + REDIS_CHUNK, len(events)))
        elapsed = time.perf_counter() - started
    client.close()
    result = Result(f"baseline B: naive Redis pipeline x{REDIS_CHUNK:,}", len(events), elapsed, [])
    return result, commands
