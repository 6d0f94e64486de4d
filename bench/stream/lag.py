"""Consumer lag while a separate producer process writes live events at a steady rate."""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.timeutil import utc_now
from bench.common import BenchError, console
from bench.stream.probes import CpuMeter, CpuUse, GroupProbe
from bench.stream.progress import progress_bar
from bench.stream.worker_run import WorkerStats, WorkerThread
from bench.stream.workload import LIVE_SPAN_S, EventSource, bulk_producer, encode


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
