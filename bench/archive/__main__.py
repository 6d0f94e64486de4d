"""Archival throughput beside a plain copy: a private Kafka and S3 server, the records pre-loaded,
then per round, on the same ranges, the baseline (kafka-python read, one plain Parquet object per
range with boto3, no checks) and the archive path (``archive_ranges``: existence check, zstd,
Content-MD5, checksums in the metadata, upload overlapped with the next read). Exits 1 when an
archived record is missing or doubled."""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rich.table import Table

from analytics_pipeline.archive.archiver import archive_ranges
from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import decode, project_prefix
from analytics_pipeline.kafka_io.admin import read_spans, topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.batch_plan import split_runs
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from analytics_pipeline.objectstore.client import ensure_bucket, s3_client
from analytics_pipeline.objectstore.endpoint import s3_endpoint
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.timeutil import utc_now
from bench.common import Result, console, print_checks, run_with_services
from bench.stream.workload import EventSource, create_project, encode, preload

SPAN_S = 3 * 86_400  # events over the last three days
GOAL = 0.8  # archived events/s over the baseline's


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="records in the raw topic")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds, after one warm-up")
    parser.add_argument("--per-object", type=int, default=20_000, help="records per range (one object each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as home:
        settings = isolated_settings(Path(home))
        services = [KafkaBroker(settings), S3Server(settings)]
        return run_with_services(services, "Kafka and S3 server", lambda: run(settings, args))


def run(settings: Settings, args: argparse.Namespace) -> int:
    project_id = create_project(settings)
    topic = raw_topic(project_id)
    now = utc_now()
    preload(
        settings,
        topic,
        encode(settings, project_id, EventSource(seed=5).payloads(args.events, now=now, span_s=SPAN_S), now),
    )
    whole = [
        OffsetRange(topic, o.partition, 0, o.latest)
        for o in topic_offsets(settings.kafka_bootstrap_servers, topic)
    ]
    ranges = [r for run_ in split_runs(whole, args.per_object) for r in run_]
    client = s3_client(s3_endpoint(settings))
    baseline, archived, checks = [], [], []
    sizes: dict[str, int] = {}
    for round_ in range(args.rounds + 1):
        base, base_bytes = bench_baseline(settings, client, ranges, f"bench-baseline-{round_}")
        store = ArchiveStore(client, f"bench-archive-{round_}")
        started = time.perf_counter()
        report = archive_ranges(settings.kafka_bootstrap_servers, store, ranges)
        result = Result("archive_ranges", report.records, time.perf_counter() - started, [])
        checks.append(
            (f"round {round_}: every record archived once", archive_is_exact(store, project_id, args.events))
        )
        checks.append((f"round {round_}: the baseline copied every record", base.events == args.events))
        sizes = {"baseline": base_bytes, "archive": report.bytes}
        console.print(
            f"round {round_}: baseline {base.rate:,.0f} events/s, archive {result.rate:,.0f} events/s"
        )
        if round_:  # round 0 warms up
            baseline.append(base)
            archived.append(result)
    report_table(args, ranges, baseline, archived, sizes)
    return 0 if print_checks("every record archived exactly once", checks) else 1


def bench_baseline(
    settings: Settings, client: object, ranges: list[OffsetRange], bucket: str
) -> tuple[Result, int]:
    """The same ranges read with kafka-python and put as one plain Parquet object each."""
    ensure_bucket(client, bucket)
    started = time.perf_counter()
    records = total = 0
    for r in ranges:
        rows = read_spans(settings.kafka_bootstrap_servers, {(r.topic, r.partition): (r.start, r.end)}, 60.0)
        table = pa.table(
            {
                "topic": [x.topic for x in rows],
                "partition": [x.partition for x in rows],
                "offset": [x.offset for x in rows],
                "timestamp": [x.timestamp_ms for x in rows],
                "key": [x.key for x in rows],
                "value": [x.value for x in rows],
            }
        )
        sink = io.BytesIO()
        pq.write_table(table, sink)
        body = sink.getvalue()
        client.put_object(Bucket=bucket, Key=f"{r.topic}/{r.partition}/{r.start}-{r.end}.parquet", Body=body)  # type: ignore[attr-defined]
        records += len(rows)
        total += len(body)
    return Result("baseline", records, time.perf_counter() - started, []), total


def archive_is_exact(store: ArchiveStore, project_id: str, expected: int) -> bool:
    positions = [
        (r.partition, r.offset)
        for obj in store.objects(project_prefix(project_id))
        for r in decode(store.read(obj.key))
    ]
    ok = len(positions) == expected == len(set(positions))
    if not ok:
        console.print(
            f"[red]the archive holds {len(positions):,} records at {len(set(positions)):,} positions, "
            f"not {expected:,}[/]"
        )
    return ok


def report_table(
    args: argparse.Namespace,
    ranges: list[OffsetRange],
    baseline: list[Result],
    archived: list[Result],
    sizes: dict[str, int],
) -> None:
    base_rate = statistics.median(r.rate for r in baseline)
    rate = statistics.median(r.rate for r in archived)
    rounds = ", ".join(f"{a.rate / b.rate:.2f}x" for a, b in zip(archived, baseline, strict=True))
    table = Table(
        "path",
        "events/s",
        "vs baseline",
        "bytes/event",
        title=f"{args.events:,} records in {len(ranges)} ranges, median of {args.rounds} rounds",
    )
    table.add_row(
        "baseline: read, plain Parquet, put_object",
        f"{base_rate:,.0f}",
        "1.00x",
        f"{sizes['baseline'] / args.events:.1f}",
    )
    table.add_row(
        "archive_ranges (events_archive)",
        f"{rate:,.0f}",
        f"{rate / base_rate:.2f}x",
        f"{sizes['archive'] / args.events:.1f}",
    )
    console.print(table)
    console.print(
        f"per round: {rounds}; goal: at least {GOAL:.2f}x the baseline -> "
        f"{'met' if rate / base_rate >= GOAL else 'missed'}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
