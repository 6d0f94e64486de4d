"""Command line and run order: a private Kafka and PostgreSQL, the records pre-loaded, then per
round the bare consumer and the indexer over the same records; the checks; everything stopped."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy
from rich.table import Table

from analytics_pipeline.indexing.indexer import MetadataIndexer
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.metadata.tables import event_index
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.stack.postgres_server import PostgresServer
from analytics_pipeline.timeutil import utc_now
from bench.common import BenchError, Result, console, print_checks, run_with_services
from bench.stream.baselines import bench_bare_consumer
from bench.stream.progress import progress_bar
from bench.stream.workload import PRELOAD_SPAN_S, EventSource, create_project, encode, preload

INDEXED = "analytics_index_records_total"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="records in the raw topic")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, after one warm-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as home:
        data_dir = Path(home) / "pg"
        data_dir.mkdir()
        Path(home).chmod(0o755)  # the postgres user (when run as root) must reach its data
        postgres = PostgresServer(Path(home), data_dir / "data", free_port())
        settings = isolated_settings(Path(home), metadata_url=postgres.url)
        services = [postgres, KafkaBroker(settings)]
        return run_with_services(services, "Kafka and PostgreSQL", lambda: run(settings, args))


def run(settings: Settings, args: argparse.Namespace) -> int:
    project_id = create_project(settings)
    topic = raw_topic(project_id)
    now = utc_now()
    records = encode(
        settings, project_id, EventSource(seed=3).payloads(args.events, now=now, span_s=PRELOAD_SPAN_S), now
    )
    preload(settings, topic, records)
    del records
    engine = sqlalchemy.create_engine(settings.metadata_database_url)
    bare, indexed, checks = [], [], []
    try:
        for round_ in range(args.rounds + 1):
            baseline = bench_bare_consumer(settings, topic, args.events)
            clear_index(engine)
            result = bench_indexer(settings, args.events)
            checks.append(
                (f"round {round_}: every record indexed once", index_is_exact(engine, topic, args.events))
            )
            if round_:  # round 0 warms up
                bare.append(baseline)
                indexed.append(result)
    finally:
        engine.dispose()
    report(args, bare, indexed, checks)
    return 0 if all(ok for _, ok in checks) else 1


def clear_index(engine: sqlalchemy.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(event_index.delete())


def bench_indexer(settings: Settings, expected: int) -> Result:
    """The real indexer in a new group, timed from its start until its counter says every record
    is written (no polling of the database while it works)."""
    group = settings.model_copy(update={"index_group": f"bench-index-{uuid.uuid4().hex[:8]}"})
    indexer, stop = MetadataIndexer(group), threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), name="indexer", daemon=True)
    with progress_bar() as progress:
        task = progress.add_task("metadata indexer into PostgreSQL", total=expected)
        started = time.perf_counter()
        thread.start()
        deadline = time.monotonic() + 300
        while (
            done := indexer.metrics.registry.get_sample_value(INDEXED, {"outcome": "indexed"}) or 0
        ) < expected:
            progress.update(task, completed=done)
            if not thread.is_alive() or time.monotonic() > deadline:
                raise BenchError(f"the indexer wrote {done:,.0f} of {expected:,} rows")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    stop.set()
    thread.join(30)
    return Result("metadata indexer into PostgreSQL", int(done), elapsed, [])


def index_is_exact(engine: sqlalchemy.Engine, topic: str, expected: int) -> bool:
    """One row per record, each at a distinct (partition, offset) of the topic."""
    positions = sqlalchemy.select(
        sqlalchemy.func.count(),
        sqlalchemy.func.count(
            sqlalchemy.distinct(sqlalchemy.tuple_(event_index.c.partition, event_index.c.offset))
        ),
    )
    with engine.connect() as conn:
        rows, distinct = conn.execute(positions).one()
    if (rows, distinct) != (expected, expected):
        console.print(f"[red]the index holds {rows:,} rows at {distinct:,} positions, not {expected:,}[/]")
    return (rows, distinct) == (expected, expected)


def report(
    args: argparse.Namespace, bare: list[Result], indexed: list[Result], checks: list[tuple[str, bool]]
) -> None:
    bare_rate = statistics.median(r.rate for r in bare)
    index_rate = statistics.median(r.rate for r in indexed)
    table = Table(
        "path",
        "events/s",
        "vs bare read",
        title=f"{args.events:,} raw records, median of {args.rounds} rounds",
    )
    table.add_row("bare KafkaConsumer, no processing", f"{bare_rate:,.0f}", "1.00x")
    table.add_row("metadata indexer into PostgreSQL", f"{index_rate:,.0f}", f"{index_rate / bare_rate:.2f}x")
    console.print(table)
    print_checks("every record indexed exactly once", checks)


if __name__ == "__main__":
    sys.exit(main())
