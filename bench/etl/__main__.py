"""Command line and run order: throughput on a private Kafka, then freshness on a private stack."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

import bench.etl
from analytics_pipeline.lakehouse.spark import spark_session
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import stack
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from bench.common import BenchError, console
from bench.etl.freshness import measure_freshness
from bench.etl.judges import judges_table, measure_judges, valid_counts
from bench.etl.report import (
    etl_checks,
    freshness_table,
    model_table,
    rounds_table,
    runs_table,
    split_table,
    throughput_table,
)
from bench.etl.steady import run_steady
from bench.etl.steady_report import goals_table, phases_table, steady_table
from bench.etl.throughput import bench_rounds, warm_up
from bench.etl.workload import load_topic
from bench.stream.report import exactly_once_table

KEPT_RUNS = Path(".local/bench-etl")  # ignored, like the rest of .local/


def run_throughput(spark_home: Path, args: argparse.Namespace) -> tuple[SparkSession, bool]:
    """Only Kafka runs: nothing else (no stream worker, no daemon) takes the cores from Spark.
    Also returns whether every round wrote exactly the counts the load holds."""
    settings = isolated_settings(spark_home)
    broker = KafkaBroker(settings)
    try:
        with console.status("starting a private Kafka ..."):
            broker.ensure_running()
        kafka_pid = broker.process.running_pid()
        if kafka_pid is None:
            raise BenchError("the private Kafka broker is not running")
        load = load_topic(settings, args.events)
        with console.status("starting Spark and warming it up (untimed) ..."):
            started = time.perf_counter()
            spark = spark_session(settings, app_name="bench-etl")
            session_s = time.perf_counter() - started
            cold = warm_up(spark, settings.kafka_bootstrap_servers, load, spark_home / "work", kafka_pid)
            warm_s = time.perf_counter() - started - session_s
        console.print(f"Spark session {session_s:.1f} s, warm-up {warm_s:.1f} s (not measured)")
        servers, work = settings.kafka_bootstrap_servers, spark_home / "work"
        rounds = bench_rounds(spark, servers, load, rounds=args.rounds, work=work, kafka_pid=kafka_pid)
    finally:
        with console.status("stopping the private Kafka ..."):
            broker.stop()
    console.print(rounds_table(rounds))
    console.print(throughput_table(rounds))
    console.print(split_table(rounds, cold))
    checks = etl_checks(rounds, load)
    console.print(exactly_once_table(checks))
    exact = bool(checks) and all(expected == found for _name, expected, found in checks)
    return spark, exact


def run_freshness(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> bool:
    """True when every sampled event became queryable."""
    run = None
    try:
        with console.status("starting a private stack: Kafka, Redis, the APIs, a worker, Dagster ..."):
            started = time.perf_counter()
            stack.up(settings)
        console.print(f"private stack up in {time.perf_counter() - started:.0f} s")
        run = measure_freshness(spark, settings, args.freshness_seconds, args.freshness_rate)
    finally:
        with console.status("stopping the private stack ..."):
            stack.down(settings)
        if run is None or len(run.landed) < len(run.samples):
            console.print(f"the private stack's logs and Dagster storage are kept in {keep_files(settings)}")
    console.print(freshness_table(run))
    console.print(runs_table(run))
    console.print(model_table(run, settings, args.freshness_rate))
    if missing := len(run.samples) - len(run.landed):
        console.print(f"[red]{missing} of {len(run.samples)} sampled events never became queryable[/red]")
    return bool(run.samples) and not missing


def keep_files(settings: Settings) -> Path:
    """A failed measurement's evidence, copied out of the private stack's temporary home."""
    kept = KEPT_RUNS / time.strftime("freshness-%Y%m%d-%H%M%S")
    for name in ("logs", "dagster", "dagster_home"):
        if (settings.home / name).is_dir():
            shutil.copytree(settings.home / name, kept / name)
    return kept.resolve()


@contextmanager
def private_kafka(home: Path) -> Iterator[Settings]:
    """Settings with a private Kafka of their own (fresh ports and state), always stopped after."""
    settings = isolated_settings(home)
    broker = KafkaBroker(settings)
    try:
        with console.status("starting a private Kafka ..."):
            broker.ensure_running()
        yield settings
    finally:
        with console.status("stopping the private Kafka ..."):
            broker.stop()


@contextmanager
def local_spark(settings: Settings, app_name: str) -> Iterator[SparkSession]:
    spark = spark_session(settings, app_name=app_name)
    try:
        yield spark
    finally:
        spark.stop()


def steady(home: Path, args: argparse.Namespace) -> bool:
    """The lake at steady state, on a private Kafka; True when every count is exact."""
    with private_kafka(home) as settings, local_spark(settings, "bench-etl-steady") as spark:
        work, sizes = home / "work", (args.history, args.batches, args.batch_events)
        timings, checks = run_steady(spark, settings, work, *sizes)
    console.print(steady_table(timings))
    console.print(phases_table(timings))
    console.print(goals_table(timings))
    console.print(exactly_once_table(checks))
    return all(expected == found for _name, expected, found in checks)


def judges(home: Path, args: argparse.Namespace) -> bool:
    """The judges' cost per record on a private Kafka; True when both give the load's valid count."""
    with private_kafka(home) as settings:
        load = load_topic(settings, args.judge_events)
        with local_spark(settings, "bench-etl-judges") as spark:
            servers = settings.kafka_bootstrap_servers
            with console.status("judging the same records by each path (a warm-up, then the rounds) ..."):
                seconds = measure_judges(spark, servers, load, args.rounds)
            counts = valid_counts(spark, servers, load)
    console.print(judges_table(seconds, load.records))
    expected = load.expected.valid_events + load.expected.valid_repeats
    checks = [(f"valid records, {name}", expected, found) for name, found in counts.items()]
    console.print(exactly_once_table(checks))
    return all(expected == found for _name, expected, found in checks)


def main() -> int:
    """Exit status 1 when a count differs or a freshness sample never lands."""
    parser = argparse.ArgumentParser(
        description=bench.etl.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000, help="events pre-loaded for the throughput")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each path (medians are reported)")
    parser.add_argument(
        "--throughput",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the ETL's throughput on a private Kafka (--no-throughput: freshness only)",
    )
    parser.add_argument(
        "--freshness",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure end-to-end freshness on a private stack with the Dagster daemon",
    )
    parser.add_argument("--freshness-seconds", type=float, default=60.0, help="length of the steady load")
    parser.add_argument("--freshness-rate", type=float, default=2.0, help="events/s posted, one per request")
    parser.add_argument(
        "--steady",
        action="store_true",
        help="only the steady state: a lake with history, batch by batch",
    )
    parser.add_argument(
        "--judges", action="store_true", help="only the judges' cost per record (Python, JVM, both)"
    )
    parser.add_argument("--judge-events", type=int, default=55_000, help="events judged (--judges)")
    parser.add_argument("--history", type=int, default=1_000_000, help="events held before (--steady)")
    parser.add_argument("--batches", type=int, default=20, help="consecutive batches measured (--steady)")
    parser.add_argument("--batch-events", type=int, default=55_000, help="events per batch (--steady)")
    args = parser.parse_args()
    console.print(f"{os.cpu_count()} cores shared by Kafka, Spark and, for freshness, the whole stack")
    alone = {
        "judges": (judges, "a judge's valid count differs from the load's"),
        "steady": (steady, "a batch's counts differ from the load's"),
    }
    for name, (measure, failure) in alone.items():
        if getattr(args, name):  # a run of its own
            with tempfile.TemporaryDirectory(prefix=f"bench-etl-{name}-") as home:
                exact = measure(Path(home), args)
            if not exact:
                console.print(f"[bold red]FAILED:[/] {failure}")
            return 0 if exact else 1
    with tempfile.TemporaryDirectory(prefix="bench-etl-") as home:
        if args.throughput:
            spark, exact = run_throughput(Path(home) / "throughput", args)
        else:  # a Spark of the bench's own, to read the lake's commits
            spark, exact = spark_session(isolated_settings(Path(home) / "reader"), app_name="bench-etl"), True
        fresh = True
        try:
            if args.freshness:
                fresh = run_freshness(spark, isolated_settings(Path(home) / "freshness"), args)
        finally:
            spark.stop()
    if not exact:
        console.print("[bold red]FAILED:[/] an ETL round's counts differ from the load's")
    return 0 if exact and fresh else 1


if __name__ == "__main__":
    raise SystemExit(main())
