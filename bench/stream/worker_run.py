"""The measured StreamWorker, run in a thread of this process so its prometheus registry can be read."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from analytics_pipeline.realtime.windows import Granularity
from analytics_pipeline.settings import Settings
from analytics_pipeline.streaming.worker import StreamWorker
from bench.common import BenchError, Result
from bench.stream.probes import GroupProbe
from bench.stream.progress import progress_bar

CLOSED_METRIC = "analytics_stream_closed_window_events_total"
RETRIES_METRIC = "analytics_stream_batch_retries_total"


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

        return cls(
            batches=int(sample(registry, "analytics_stream_batch_seconds_count")),
            records=int(sample(registry, "analytics_stream_batch_records_sum")),
            batch_seconds=sample(registry, "analytics_stream_batch_seconds_sum"),
            p95_le=bucket_quantile(registry, "analytics_stream_batch_seconds", 0.95),
            applied=events("applied"),
            duplicates=events("duplicate"),
            dead_lettered=events("dead_lettered"),
            closed=int(sum(sample(registry, CLOSED_METRIC, {"granularity": str(g)}) for g in Granularity)),
            retries=int(sum(sample(registry, RETRIES_METRIC, {"cause": c}) for c in ("redis", "kafka"))),
            commit_failures=int(sample(registry, "analytics_stream_commit_failures_total")),
        )


def bench_worker(settings: Settings, probe: GroupProbe, expected: int) -> tuple[Result, WorkerStats]:
    """From thread start (consumer built, group joined) to the commit that covers the last record."""
    run = WorkerThread(settings, "bench-throughput")
    budget_s = max(180.0, expected / 500)
    deadline = time.monotonic() + budget_s
    try:
        with progress_bar() as progress:
            task = progress.add_task("worker: committed offsets", total=expected)
            started = run.start()
            while (committed := probe.committed()) < expected:
                run.check()
                if time.monotonic() > deadline:
                    raise BenchError(f"the worker committed {committed:,} of {expected:,} in {budget_s:g} s")
                progress.update(task, completed=committed)
                time.sleep(0.25)
        elapsed = sample(run.registry, "analytics_stream_last_commit_timestamp_seconds") - started
    finally:
        run.stop()
    result = Result("worker: StreamWorker, 1 thread", expected, elapsed, [])
    return result, WorkerStats.of(run.registry)
