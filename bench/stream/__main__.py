"""Command line and run order: a private Kafka and Redis (nothing else: no API, no Dagster daemon
launching Spark mid-measurement), workload, baselines, worker, lag, tables, then they stop."""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import uuid
from pathlib import Path

import bench.stream
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.timeutil import utc_now
from bench.common import console, run_with_services
from bench.stream.baselines import bench_bare_consumer, bench_naive_redis
from bench.stream.checks import counted_in_redis, sum_rejects
from bench.stream.lag import StreamPlan, bench_lag
from bench.stream.probes import group_probe, stack_meter
from bench.stream.report import (
    cpu_table,
    exactly_once_table,
    lag_interval_table,
    lag_summary_table,
    throughput_table,
    worker_table,
)
from bench.stream.worker_run import bench_worker
from bench.stream.workload import PRELOAD_SPAN_S, EventSource, create_project, decode, encode, preload


def run_benchmark(settings: Settings, args: argparse.Namespace) -> int:
    """Exit status 1 when an event was not applied exactly once."""
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
    del payloads, records, naive_events  # the worker runs in this process: not with them on its heap
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
    cpu_rows += [("worker", cpu_worker, args.events), ("lag run", lag.cpu, lag.samples[-1].consumed)]
    console.print(cpu_table(cpu_rows))
    checks = [
        ("throughput run: applied = records", args.events, throughput_stats.applied),
        ("lag run: applied = records produced in it", in_topic - args.events, lag_stats.applied),
        ("both runs: duplicates + dead letters", 0, sum_rejects(throughput_stats, lag_stats)),
        ("Redis: all_events 1d counts = records in topic", in_topic, counted_in_redis(settings, project_id)),
    ]
    console.print(exactly_once_table(checks))
    return 0 if all(expected == found for _name, expected, found in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=bench.stream.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="raw events pre-loaded and consumed")
    parser.add_argument("--lag-seconds", type=float, default=60.0, help="length of the lag run")
    parser.add_argument("--rate", type=float, default=7_000.0, help="events/s produced during the lag run")
    args = parser.parse_args()
    # No Dagster runs here; the worker's one warning about it would land between tables.
    logging.getLogger("analytics_pipeline.streaming.dagster_report").setLevel(logging.ERROR)
    console.print(f"{os.cpu_count()} cores shared by Kafka, Redis, the producer and the worker")
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as home:
        settings = isolated_settings(Path(home))
        services = [RedisServer(settings), KafkaBroker(settings)]
        return run_with_services(services, "Kafka and Redis", lambda: run_benchmark(settings, args))


if __name__ == "__main__":
    raise SystemExit(main())
