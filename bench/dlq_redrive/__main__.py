"""Dead-letter redrive throughput beside a plain producer: a private Kafka, then per round a fresh
project whose dead-letter topic holds the same letters, and on them the baseline (kafka-python,
acks=all, idempotent: the same records, headers and partitions, one flush at the end) and
``analytics dlq redrive --all`` (read the letters, claim them in the metadata database, send,
wait for the acks, record each offset). Exits 1 when a letter lands twice or not at all, or
when a second redrive sends anything."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from kafka import KafkaProducer
from rich.table import Table

from analytics_pipeline.deadletters.letters import read_dead_letters
from analytics_pipeline.deadletters.redrive import REDRIVE_OF, redrive
from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION, read_spans, topic_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic, raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.timeutil import utc_now
from bench.common import Result, console, print_checks, run_with_services
from bench.stream.workload import EventSource, create_project, encode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=20_000, help="dead letters per round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, after one warm-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dlq-") as home:
        settings = isolated_settings(Path(home))
        return run_with_services([KafkaBroker(settings)], "Kafka", lambda: run(settings, args))


def run(settings: Settings, args: argparse.Namespace) -> int:
    now = utc_now()
    records = encode(
        settings, "bench", EventSource(seed=9).payloads(args.letters, now=now, span_s=3_600), now
    )
    baseline, redriven, checks = [], [], []
    for round_ in range(args.rounds + 1):
        project_id = create_project(settings)
        write_letters(settings, project_id, records)
        letters = read_dead_letters(settings.kafka_bootstrap_servers, project_id)
        base = bench_baseline(settings, create_project(settings), letters)
        started = time.perf_counter()
        report = redrive(settings, project_id, None)
        result = Result("dlq redrive", len(report.sent), time.perf_counter() - started, [])
        copies = redriven_copies(settings, project_id)
        checks.append((f"round {round_}: every letter in the raw topic once", exactly_once(copies, letters)))
        checks.append(
            (
                f"round {round_}: a second redrive sends nothing",
                redrive(settings, project_id, None).sent == [],
            )
        )
        console.print(
            f"round {round_}: baseline {base.rate:,.0f} records/s, redrive {result.rate:,.0f} letters/s"
        )
        if round_:  # round 0 warms up
            baseline.append(base)
            redriven.append(result)
    base_rate = statistics.median(r.rate for r in baseline)
    rate = statistics.median(r.rate for r in redriven)
    table = Table(
        "path", "per s", "vs baseline", title=f"{args.letters:,} letters, median of {args.rounds} rounds"
    )
    table.add_row("baseline: kafka-python producer", f"{base_rate:,.0f}", "1.00x")
    table.add_row("analytics dlq redrive", f"{rate:,.0f}", f"{rate / base_rate:.2f}x")
    console.print(table)
    return 0 if print_checks("every letter redriven exactly once", checks) else 1


def write_letters(settings: Settings, project_id: str, records: list[tuple[bytes, bytes]]) -> None:
    """Letters as the stream worker writes them: the record, and where and why it failed."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        api_version=KAFKA_API_VERSION,
        acks="all",
        linger_ms=20,
    )
    topic = raw_topic(project_id)
    for n, (key, value) in enumerate(records):
        headers = {
            "error.stage": "aggregate",
            "error.reason": "WRONGTYPE",
            "source.topic": topic,
            "source.partition": str(n % 3),
            "source.offset": str(n),
        }
        producer.send(
            dead_letter_topic(project_id),
            key=key,
            value=value,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    producer.flush(120)
    producer.close(30)


def bench_baseline(settings: Settings, project_id: str, letters: list) -> Result:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        api_version=KAFKA_API_VERSION,
        acks="all",
        enable_idempotence=True,
        compression_type="snappy",
        linger_ms=5,
    )
    topic = raw_topic(project_id)
    started = time.perf_counter()
    futures = [
        producer.send(
            topic,
            key=x.key,
            value=x.value,
            partition=x.source_partition,
            headers=[(REDRIVE_OF, x.letter_id.encode())],
        )
        for x in letters
    ]
    producer.flush(120)
    sent = sum(1 for f in futures if f.get(timeout=0).offset >= 0)
    elapsed = time.perf_counter() - started
    producer.close(30)
    return Result("baseline", sent, elapsed, [])


def redriven_copies(settings: Settings, project_id: str) -> Counter[str]:
    topic = raw_topic(project_id)
    spans = {
        (topic, o.partition): (o.earliest, o.latest)
        for o in topic_offsets(settings.kafka_bootstrap_servers, topic)
    }
    return Counter(
        dict(r.headers)[REDRIVE_OF].decode()
        for r in read_spans(settings.kafka_bootstrap_servers, spans, 120.0)
        if REDRIVE_OF in dict(r.headers)
    )


def exactly_once(copies: Counter[str], letters: list) -> bool:
    ok = set(copies) == {x.letter_id for x in letters} and set(copies.values()) == {1}
    if not ok:
        console.print(
            f"[red]{len(copies):,} letters landed ({sum(copies.values()):,} records) of {len(letters):,}[/]"
        )
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
