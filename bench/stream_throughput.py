"""Streaming worker throughput and lag, as ratios against bare Kafka and bare Redis measured in the same run.

Starts a private Kafka and Redis (fresh ports and state, nothing shared with `make up`), stops the
stack's own stream worker so that only the measured one runs, pre-loads N raw events exactly as
the ingestion service writes them (not measured), then:

  baseline A  a bare kafka-python consumer (own group, earliest) reading the N records, no processing
  baseline B  the Redis writes a naive client issues for the N events: per event SET NX EX of the
              processed mark, then HINCRBY / PFADD / EXPIREAT on the same keys as realtime/layout.py,
              pipelined (transaction=False) 1,000 events at a time
  worker      StreamWorker.run in a thread over the N records (fresh group): decode, publish the
              processed events, one Lua script per batch, snapshots, commit; until all is committed
  lag         a producer process (a thread would take the worker's GIL) writes live events at
              --rate for --lag-seconds while a worker consumes; lag = end offsets minus the worker
              group's committed offsets, sampled every second
  CPU         cores busy per process (this one, the producer, Redis, Kafka) in each run, from /proc:
              on 2 shared cores it says whether the machine or the worker was the limit

The worker's rate is compared with min(A, B): it can be no faster than reading Kafka, and a client
that does the same Redis writes naively is what one Lua script per batch must beat. Everything
shares the machine's cores with Kafka and Redis, so figures are lower bounds; compare the ratios.

Run: .venv/bin/python bench/stream_throughput.py [--events N] [--lag-seconds S] [--rate R]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import multiprocessing
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import redis
from ingest_throughput import Result, console
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from redis.client import Pipeline
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from throwaway_redis import BenchError

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.raw_record import RawEvent, parse_raw_record
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION, admin_client, offsets_consumer
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.loadgen.synthetic import generate_events
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.realtime.layout import (
    ALL_EVENTS,
    COUNT_FIELD,
    MetricWindow,
    metrics_of,
    processed_key,
)
from analytics_pipeline.realtime.windows import Granularity, window_start, window_starts
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import stack
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess
from analytics_pipeline.streaming.worker import StreamWorker
from analytics_pipeline.timeutil import format_rfc3339, utc_now

USERS = 5_000
PRELOAD_SPAN_S = 30 * 60  # pre-loaded events: the last 30 minutes
LIVE_SPAN_S = 5.0  # live events: sent within seconds of happening, like a batching SDK
REDIS_CHUNK = 1_000
BOUNDED_LAG_S = 2.0  # lag is "bounded" if the final lag is under this many seconds of events
SPARK = "▁▂▃▄▅▆▇█"


# --- events ---------------------------------------------------------------------------------


class EventSource:
    """The load generator's mix (event types, Zipf users) with timestamps redrawn over a recent span.

    ``generate_events`` spreads timestamps over whole days; a live stream's are minutes old.
    """

    def __init__(self, seed: int) -> None:
        self._events = generate_events(10**12, now=utc_now(), days=1, users=USERS, seed=seed)  # lazy
        self._rng = random.Random(seed)

    def payloads(self, count: int, *, now: datetime, span_s: float) -> list[dict[str, Any]]:
        payloads = []
        for event in itertools.islice(self._events, count):
            payload = event.as_payload()
            payload["timestamp"] = format_rfc3339(now - timedelta(seconds=self._rng.uniform(0, span_s)))
            payloads.append(payload)
        return payloads


def encode(
    settings: Settings, project_id: str, payloads: Sequence[dict[str, Any]], received_at: datetime
) -> list[tuple[bytes, bytes]]:
    """(key, value) as the ingestion service writes them: the same validation and ``kafka_record``."""
    window = TimeWindow(
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_age=timedelta(seconds=settings.max_event_age_s),
    )
    records = []
    for payload in payloads:
        valid, errors = validate_event(payload, received_at=received_at, window=window)
        if valid is None:
            raise BenchError(f"a synthetic event was refused: {errors}")
        record = kafka_record(valid, project_id, received_at)
        records.append((record.key, record.value))
    return records


def decode(topic: str, records: Sequence[tuple[bytes, bytes]]) -> list[RawEvent]:
    """The events as the worker reads them, for baseline B (not timed: the worker's decoding is
    part of its own figure, not of the Redis baseline)."""
    events = []
    for key, value in records:
        event, problems = parse_raw_record(topic, key, value)
        if event is None:
            raise BenchError(f"a pre-loaded record breaks the raw-record contract: {problems}")
        events.append(event)
    return events


# --- progress and Kafka helpers -------------------------------------------------------------


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """Transient: the bar is for watching; the tables and summary lines are the output."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
    )
    live = console.is_terminal
    with Progress(
        *columns, console=console, transient=True, refresh_per_second=4, disable=not live
    ) as progress:
        yield progress


class GroupProbe:
    """End offsets of one topic and one group's committed offsets on it.

    One admin client and one offsets consumer stay open, so a sample is two small requests.
    """

    def __init__(self, admin: KafkaAdminClient, consumer: KafkaConsumer, topic: str, group: str) -> None:
        self._admin = admin
        self._consumer = consumer
        self._group = group
        self._partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]

    def end(self) -> int:
        return sum(self._consumer.end_offsets(self._partitions).values())

    def committed(self) -> int:
        offsets = self._admin.list_group_offsets({self._group: None}).get(self._group, {})
        return sum(meta.offset for tp, meta in offsets.items() if tp in self._partitions and meta.offset >= 0)


@contextmanager
def group_probe(settings: Settings, topic: str, group: str) -> Iterator[GroupProbe]:
    servers = settings.kafka_bootstrap_servers
    with admin_client(servers) as admin, offsets_consumer(servers) as consumer:
        yield GroupProbe(admin, consumer, topic, group)


def bulk_producer(settings: Settings) -> KafkaProducer:
    """acks=all like the ingestion service, but batching freely: the load generator should take as
    little of the shared cores as it can (kafka-python pays per send, and per batch it wakes for)."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        api_version=KAFKA_API_VERSION,
        acks="all",
        compression_type="snappy",
        linger_ms=20,
        batch_size=256 * 1024,
    )


def preload(settings: Settings, topic: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    """Every future is checked, so the topic holds exactly the N records."""
    started = time.perf_counter()
    producer = bulk_producer(settings)
    with progress_bar() as progress:
        task = progress.add_task("pre-loading raw events", total=len(records))
        futures = []
        for index, (key, value) in enumerate(records, 1):
            futures.append(producer.send(topic, key=key, value=value))
            if index % 5_000 == 0:
                progress.update(task, completed=index)
        producer.flush(120)
        for future in futures:
            future.get(timeout=0)
    producer.close()
    return time.perf_counter() - started


# --- CPU of the processes sharing the cores -------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of all the process's threads (Linux /proc); NaN once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds per process over one measured stretch, and the stretch's wall time."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    def cores(self, name: str) -> str:
        return f"{self.seconds[name] / self.wall_s:.2f}" if name in self.seconds else "-"


class CpuMeter:
    """On 2 shared cores a rate alone says little: where the CPU went says who was the bottleneck."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids

    @contextmanager
    def measure(self, extra: dict[str, int] | None = None) -> Iterator[CpuUse]:
        pids = {**self._pids, **(extra or {})}
        use = CpuUse()
        before, started = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.perf_counter()
        yield use
        use.wall_s = time.perf_counter() - started
        use.seconds = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}


def stack_meter(settings: Settings) -> CpuMeter:
    pids = {"this process": os.getpid()}
    for name, service in (("Redis", RedisServer(settings)), ("Kafka", KafkaBroker(settings))):
        pid = service.process.running_pid()
        if pid is None:
            raise BenchError(f"{name} of the private stack is not running")
        pids[name] = pid
    return CpuMeter(pids)


# --- baselines ------------------------------------------------------------------------------


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


# --- the worker -----------------------------------------------------------------------------


class WorkerThread:
    """StreamWorker.run in a thread of this process, so that its metrics registry can be read."""

    def __init__(self, settings: Settings, worker_id: str) -> None:
        self.worker = StreamWorker(settings, worker_id=worker_id)
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=worker_id, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run(self._stop)
        except BaseException as exc:
            self.error = exc
            raise

    def start(self) -> float:
        """The wall-clock start, comparable with the worker's last-commit gauge."""
        started = time.time()
        self._thread.start()
        return started

    def check(self) -> None:
        if not self._thread.is_alive():
            raise BenchError(f"the stream worker stopped: {self.error!r}")

    def assigned(self, topic: str) -> bool:
        """The worker reports lag for its partitions once it has joined the group and fetched."""
        labels = {"topic": topic, "partition": "0"}
        return self.registry.get_sample_value("analytics_stream_consumer_lag", labels) is not None

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(30)

    @property
    def registry(self) -> CollectorRegistry:
        return self.worker.metrics.registry


def sample(registry: CollectorRegistry, name: str, labels: dict[str, str] | None = None) -> float:
    """A metric's value; 0 for a labelled child never touched (prometheus_client has no sample then)."""
    return registry.get_sample_value(name, labels or {}) or 0.0


def bucket_quantile(registry: CollectorRegistry, name: str, quantile: float) -> float | None:
    """The upper bound of the histogram bucket holding the quantile: all a histogram can say."""
    for metric in registry.collect():
        if metric.name != name:
            continue
        buckets = [(float(s.labels["le"]), s.value) for s in metric.samples if s.name == f"{name}_bucket"]
        total = buckets[-1][1]
        return next((le for le, count in buckets if count >= quantile * total), None) if total else None
    return None


@dataclass(frozen=True)
class WorkerStats:
    """What the worker's own metrics say about a run: batch latency and the outcome of every event."""

    batches: int
    records: int
    batch_seconds: float
    p95_le: float | None
    applied: int
    duplicates: int
    dead_lettered: int
    closed: int
    retries: int
    commit_failures: int

    @classmethod
    def of(cls, registry: CollectorRegistry) -> WorkerStats:
        def events(outcome: str) -> int:
            return int(sample(registry, "analytics_stream_events_total", {"outcome": outcome}))

        closed_name, retries_name = (
            "analytics_stream_closed_window_events_total",
            "analytics_stream_batch_retries_total",
        )
        return cls(
            batches=int(sample(registry, "analytics_stream_batch_seconds_count")),
            records=int(sample(registry, "analytics_stream_batch_records_sum")),
            batch_seconds=sample(registry, "analytics_stream_batch_seconds_sum"),
            p95_le=bucket_quantile(registry, "analytics_stream_batch_seconds", 0.95),
            applied=events("applied"),
            duplicates=events("duplicate"),
            dead_lettered=events("dead_lettered"),
            closed=int(sum(sample(registry, closed_name, {"granularity": str(g)}) for g in Granularity)),
            retries=int(sum(sample(registry, retries_name, {"cause": c}) for c in ("redis", "kafka"))),
            commit_failures=int(sample(registry, "analytics_stream_commit_failures_total")),
        )


def bench_worker(settings: Settings, probe: GroupProbe, expected: int) -> tuple[Result, WorkerStats]:
    """From thread start (consumer built, group joined) to the commit that covers the last record."""
    run = WorkerThread(settings, "bench-throughput")
    deadline = time.monotonic() + max(180.0, expected / 500)
    try:
        with progress_bar() as progress:
            task = progress.add_task("worker: committed offsets", total=expected)
            started = run.start()
            while (committed := probe.committed()) < expected:
                run.check()
                if time.monotonic() > deadline:
                    raise BenchError(f"the worker committed {committed:,} of {expected:,} records in time")
                progress.update(task, completed=committed)
                time.sleep(0.25)
        elapsed = sample(run.registry, "analytics_stream_last_commit_timestamp_seconds") - started
    finally:
        run.stop()
    result = Result("worker: StreamWorker, 1 thread", expected, elapsed, [])
    return result, WorkerStats.of(run.registry)


# --- lag under a steady stream --------------------------------------------------------------


@dataclass(frozen=True)
class StreamPlan:
    """What the producer process is to write (picklable: it crosses into a spawned process)."""

    settings: Settings
    project_id: str
    rate: float
    seconds: float


def produce_at_rate(plan: StreamPlan, ready: ProcessEvent, done: ProcessEvent) -> None:
    """Child process: live events at a fixed rate, encoded as the ingestion service encodes them.

    A process rather than a thread: a thread would take the worker's GIL, which measures the
    load generator rather than the worker. It still takes CPU from the shared cores (reported).
    """
    settings, project_id, rate = plan.settings, plan.project_id, plan.rate
    source = EventSource(seed=2)
    topic = raw_topic(project_id)
    producer = bulk_producer(settings)
    producer.partitions_for(topic)  # metadata fetched before the clock starts
    failures: list[Exception] = []
    ready.set()
    started, sent = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < plan.seconds:
        due = int(elapsed * rate) - sent
        if due <= 0:
            time.sleep(0.005)
            continue
        now = utc_now()
        for key, value in encode(
            settings, project_id, source.payloads(due, now=now, span_s=LIVE_SPAN_S), now
        ):
            producer.send(topic, key=key, value=value).add_errback(failures.append)
        sent += due
    producer.flush(30)
    done.set()  # the end of the run: closing the producer is not part of it
    producer.close(10)
    if failures:
        raise SystemExit(f"{len(failures):,} of {sent:,} sends failed; first: {failures[0]!r}")


@dataclass(frozen=True)
class LagSample:
    at_s: float
    produced: int  # records added to the topic since the phase began
    consumed: int  # records the worker committed since the phase began
    lag: int  # end offsets minus committed offsets, now


@dataclass(frozen=True)
class LagRun:
    samples: list[LagSample]  # one a second, the last when the producer finished
    drain_s: float | None  # from the producer's end until the worker caught up; None: not within 30 s
    producer_exit: int | None
    cpu: CpuUse  # while producing

    @property
    def seconds(self) -> float:
        return self.samples[-1].at_s

    @property
    def produce_rate(self) -> float:
        return self.samples[-1].produced / self.seconds

    @property
    def worker_rate(self) -> float:
        return self.samples[-1].consumed / self.seconds

    @property
    def lags(self) -> list[int]:
        return [s.lag for s in self.samples]


def sample_while_producing(
    probe: GroupProbe, done: ProcessEvent, producer: BaseProcess, run: WorkerThread, seconds: float
) -> list[LagSample]:
    """A sample every second until the producer has flushed its last record, then one at that moment."""
    base_end, base_committed = probe.end(), probe.committed()
    started = time.monotonic()
    samples: list[LagSample] = []
    with progress_bar() as progress:
        task = progress.add_task("lag: producing", total=seconds)
        while True:
            finished = done.wait(timeout=max(0.0, started + len(samples) + 1 - time.monotonic()))
            end, committed = probe.end(), probe.committed()
            at = time.monotonic() - started
            samples.append(LagSample(at, end - base_end, committed - base_committed, end - committed))
            if finished:
                return samples
            if not producer.is_alive():
                raise BenchError(f"the producer process exited early with code {producer.exitcode}")
            run.check()
            progress.update(
                task, completed=min(at, seconds), description=f"lag: {end - committed:>7,} records"
            )


def stop_process(process: BaseProcess, *, finished: bool) -> None:
    """A producer that finished gets time to close; one interrupted mid-run is terminated at once."""
    if process.pid is None:
        return
    process.join(15 if finished else 0)
    if process.is_alive():
        process.terminate()
        process.join(5)


def drain_time(probe: GroupProbe, timeout_s: float = 30.0) -> float | None:
    started = time.monotonic()
    if wait_until(lambda: probe.committed() >= probe.end(), timeout_s, interval_s=0.1):
        return time.monotonic() - started
    return None


def bench_lag(
    settings: Settings, probe: GroupProbe, meter: CpuMeter, plan: StreamPlan
) -> tuple[LagRun, WorkerStats]:
    """A worker in the same group as the throughput run (so it starts caught up) against a steady stream."""
    run = WorkerThread(settings, "bench-lag")
    context = multiprocessing.get_context("spawn")  # no fork of a process running Kafka client threads
    ready, done = context.Event(), context.Event()
    producer = context.Process(
        target=produce_at_rate,
        args=(plan, ready, done),
        daemon=True,
    )
    try:
        run.start()
        if not wait_until(lambda: run.assigned(raw_topic(plan.project_id)), 60.0, 0.1):
            raise BenchError("the lag-phase worker got no partitions within 60 s")
        producer.start()
        if not ready.wait(60):
            raise BenchError("the producer process did not start within 60 s")
        with meter.measure(extra={"producer": producer.pid}) as cpu:
            samples = sample_while_producing(probe, done, producer, run, plan.seconds)
        with console.status("lag: waiting for the worker to drain ..."):
            drain_s = drain_time(probe)
    finally:
        stop_process(producer, finished=done.is_set())
        run.stop()
    return LagRun(samples, drain_s, producer.exitcode, cpu), WorkerStats.of(run.registry)


# --- checks and reports ---------------------------------------------------------------------


def counted_in_redis(settings: Settings, project_id: str) -> int:
    """Sum of the all_events daily counts: every event lies in one open 1d window, so this is how
    many events the aggregates hold, whatever the closed 1m windows skipped."""
    now = utc_now()
    starts = window_starts(now - timedelta(days=1), now + timedelta(seconds=1), Granularity.DAY)
    keys = [MetricWindow(project_id, ALL_EVENTS, Granularity.DAY, start).key for start in starts]
    client = redis.Redis.from_url(settings.redis_url)
    try:
        return sum(int(client.hget(key, COUNT_FIELD) or 0) for key in keys)
    finally:
        client.close()


def throughput_table(results: list[Result], baseline_a: Result, baseline_b: Result, commands: int) -> Table:
    floor = min(baseline_a.rate, baseline_b.rate)
    table = Table(title=f"stream throughput over the same {baseline_a.events:,} raw events")
    for column in ("path", "events", "seconds", "events/s", "vs min(A, B)", "vs A", "vs B"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for result in results:
        table.add_row(
            result.name,
            f"{result.events:,}",
            f"{result.seconds:.2f}",
            f"{result.rate:,.0f}",
            f"{result.rate / floor:.2f}x",
            f"{result.rate / baseline_a.rate:.2f}x",
            f"{result.rate / baseline_b.rate:.2f}x",
        )
    table.caption = f"baseline B issued {commands / baseline_b.events:.1f} Redis commands per event"
    return table


def worker_table(phases: list[tuple[str, WorkerStats]]) -> Table:
    table = Table(title="the worker's own metrics per batch (prometheus registry)")
    table.caption = (
        "DLQ: dead-lettered; closed: events not counted at a granularity whose window had expired (1m: 2 min)"
    )
    columns = ("run", "batches", "rec/batch", "mean ms", "p95 ms <=", "µs/event", "applied")
    columns += ("duplicates", "DLQ", "closed", "retries", "commit fails")
    for column in columns:
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, stats in phases:
        per_batch = stats.batch_seconds / stats.batches if stats.batches else 0.0
        p95 = f"{stats.p95_le * 1000:,.0f}" if stats.p95_le is not None else "-"
        table.add_row(
            name,
            f"{stats.batches:,}",
            f"{stats.records / stats.batches:,.0f}" if stats.batches else "-",
            f"{per_batch * 1000:,.1f}",
            p95,
            f"{stats.batch_seconds / stats.records * 1e6:,.0f}" if stats.records else "-",
            f"{stats.applied:,}",
            f"{stats.duplicates:,}",
            f"{stats.dead_lettered:,}",
            f"{stats.closed:,}",
            f"{stats.retries:,}",
            f"{stats.commit_failures:,}",
        )
    return table


def cpu_table(rows: list[tuple[str, CpuUse, int]]) -> Table:
    """Cores busy per process (CPU s / wall s) in each measured stretch, and this process's cost per event."""
    table = Table(title=f"CPU: cores busy during each run ({os.cpu_count()} cores on this machine)")
    table.caption = (
        "this process runs the measured client: the bare consumer, the Redis pipeline or the worker"
    )
    names = ("this process", "producer", "Redis", "Kafka")
    for column in ("run", "wall s", *names, "total", "this process µs/event"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, use, events in rows:
        total = sum(use.seconds.values()) / use.wall_s
        per_event = use.seconds["this process"] / events * 1e6
        cells = [use.cores(process) for process in names]
        table.add_row(name, f"{use.wall_s:.1f}", *cells, f"{total:.2f}", f"{per_event:,.0f}")
    return table


def sum_rejects(*runs: WorkerStats) -> int:
    return sum(stats.duplicates + stats.dead_lettered for stats in runs)


def exactly_once_table(checks: list[tuple[str, int, int]]) -> Table:
    table = Table(title="every event applied exactly once")
    for column in ("check", "expected", "found", ""):
        table.add_column(column, justify="left" if column == "check" else "right")
    for name, expected, found in checks:
        table.add_row(name, f"{expected:,}", f"{found:,}", "ok" if expected == found else "MISMATCH")
    return table


def sparkline(values: Sequence[int]) -> str:
    top = max(values) or 1
    return "".join(SPARK[min(len(SPARK) - 1, value * len(SPARK) // (top + 1))] for value in values)


def lag_interval_table(lag: LagRun, every_s: int = 10) -> Table:
    """One row per ``every_s`` seconds: rates within the interval, lag at its end and its peak."""
    table = Table(title=f"lag samples, every {every_s} s and at the producer's end")
    for column in ("t s", "produced/s", "worker/s", "lag at t", "lag at t (s)", "max lag in interval"):
        table.add_column(column, justify="right")
    previous = LagSample(0.0, 0, 0, 0)
    marks = [s for s in lag.samples if round(s.at_s) % every_s == 0 and round(s.at_s) > 0] or lag.samples
    if marks[-1] is not lag.samples[-1]:
        marks.append(lag.samples[-1])
    for mark in marks:
        window = [s.lag for s in lag.samples if previous.at_s < s.at_s <= mark.at_s]
        span = mark.at_s - previous.at_s
        table.add_row(
            f"{mark.at_s:.0f}",
            f"{(mark.produced - previous.produced) / span:,.0f}",
            f"{(mark.consumed - previous.consumed) / span:,.0f}",
            f"{mark.lag:,}",
            f"{mark.lag / lag.produce_rate:.2f}",
            f"{max(window, default=mark.lag):,}",
        )
        previous = mark
    return table


def lag_summary_table(lag: LagRun, target_rate: float) -> Table:
    lags = lag.lags
    quantiles = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else lags * 99
    end_lag, rate = lag.samples[-1].lag, lag.produce_rate
    bounded = end_lag < BOUNDED_LAG_S * rate
    drain = f"{lag.drain_s:.1f} s" if lag.drain_s is not None else "not within 30 s"
    rows = [
        ("producer (separate process)", f"{rate:,.0f} ev/s achieved, target {target_rate:,.0f}"),
        ("worker during the run", f"{lag.worker_rate:,.0f} ev/s ({lag.worker_rate / rate:.2f}x produce)"),
        ("run", f"{lag.seconds:.1f} s, {lag.samples[-1].produced:,} events"),
        ("max lag", f"{max(lag.lags):,} records = {max(lag.lags) / rate:.2f} s"),
        ("lag p50 / p95", f"{quantiles[49]:,.0f} / {quantiles[94]:,.0f} records"),
        ("lag at the end", f"{end_lag:,} records = {end_lag / rate:.2f} s"),
        ("drained after the producer stopped", drain),
        (f"bounded (end lag < {BOUNDED_LAG_S:g} s of events)", "yes" if bounded else "NO"),
        ("lag, 1 s samples", sparkline(lag.lags)),
    ]
    if lag.producer_exit:
        rows.append(("producer exit code", f"{lag.producer_exit} (see its stderr above)"))
    table = Table(title="consumer lag under a steady stream", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for row in rows:
        table.add_row(*row)
    return table


# --- the run --------------------------------------------------------------------------------


def create_project(settings: Settings) -> str:
    store = MetadataStore(settings.metadata_database_url)
    try:
        project = provision_project(settings, store, f"bench-stream-{uuid.uuid4().hex[:6]}")
    finally:
        store.close()
    if project.topics_error:
        raise BenchError(f"could not create the project's topics: {project.topics_error}")
    return project.project_id


def run_benchmark(settings: Settings, args: argparse.Namespace) -> None:
    with console.status("stopping the stack's own stream worker (only the measured one may run) ..."):
        StreamWorkerProcess(settings).stop()
        project_id = create_project(settings)
    topic = raw_topic(project_id)
    meter = stack_meter(settings)
    worker_settings = settings.model_copy(update={"stream_group": f"bench-stream-{uuid.uuid4().hex[:8]}"})
    with console.status(f"building {args.events:,} raw records ..."):
        now = utc_now()
        payloads = EventSource(seed=1).payloads(args.events, now=now, span_s=PRELOAD_SPAN_S)
        records = encode(settings, project_id, payloads, now)
        naive_events = decode(topic, records)
    loaded_s = preload(settings, topic, records)
    console.print(f"pre-loaded {args.events:,} records into {topic} in {loaded_s:.1f} s (not measured)")

    with meter.measure() as cpu_a:
        baseline_a = bench_bare_consumer(settings, topic, args.events)
    with meter.measure() as cpu_b:
        baseline_b, commands = bench_naive_redis(settings, f"{project_id}-naive", naive_events)
    with group_probe(settings, topic, worker_settings.stream_group) as probe:
        with meter.measure() as cpu_worker:
            worker, throughput_stats = bench_worker(worker_settings, probe, args.events)
        console.print(throughput_table([baseline_a, baseline_b, worker], baseline_a, baseline_b, commands))
        plan = StreamPlan(worker_settings, project_id, args.rate, args.lag_seconds)
        lag, lag_stats = bench_lag(worker_settings, probe, meter, plan)
        in_topic = probe.end()

    console.print(lag_interval_table(lag))
    console.print(lag_summary_table(lag, args.rate))
    console.print(worker_table([("throughput", throughput_stats), ("lag", lag_stats)]))
    cpu_rows = [("baseline A", cpu_a, args.events), ("baseline B", cpu_b, args.events)]
    cpu_rows += [("worker", cpu_worker, args.events), ("lag run", lag.cpu, lag.samples[-1].produced)]
    console.print(cpu_table(cpu_rows))
    checks = [
        ("throughput run: applied = records", args.events, throughput_stats.applied),
        ("lag run: applied = records produced in it", in_topic - args.events, lag_stats.applied),
        ("both runs: duplicates + dead letters", 0, sum_rejects(throughput_stats, lag_stats)),
        ("Redis: all_events 1d counts = records in topic", in_topic, counted_in_redis(settings, project_id)),
    ]
    console.print(exactly_once_table(checks))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="raw events pre-loaded and consumed")
    parser.add_argument("--lag-seconds", type=float, default=60.0, help="length of the lag run")
    parser.add_argument("--rate", type=float, default=7_000.0, help="events/s produced during the lag run")
    args = parser.parse_args()
    # The private stack runs no Dagster; the worker's one warning about it would land between tables.
    logging.getLogger("analytics_pipeline.streaming.dagster_report").setLevel(logging.ERROR)
    console.print(f"{os.cpu_count()} cores shared by Kafka, Redis, the producer and the worker")
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as home:
        settings = isolated_settings(Path(home))
        try:
            with console.status("starting a private Kafka, Redis and the services ..."):
                stack.up(settings)
            run_benchmark(settings, args)
        finally:
            with console.status("stopping the private stack ..."):
                stack.down(settings)


if __name__ == "__main__":
    main()
