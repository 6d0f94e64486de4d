"""Ingestion throughput, as ratios against plain Kafka measured in the same run.

Starts a private Kafka, Redis and ingestion API (fresh ports and state, nothing shared with
`make up`), then sends the same synthetic events four ways:

  baseline   kafka-python producer straight into the topic (acks=all, idempotent, snappy):
             the ceiling any Python ingestion path on this machine can reach
  batch      POST /v1/batch, 500 events per request, 4 client threads
  single     POST /v1/events, one event per request, 16 client threads
  sdk        AnalyticsClient.track(): background batching and retries

Every path includes validation, rate limiting, deduplication in Redis and acks=all. Client and
server share the machine's cores, so figures are lower bounds; the ratios are what to compare.

Run: .venv/bin/python -m bench.ingest_throughput [--events N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.table import Table

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.producer import build_kafka_producer
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.loadgen.synthetic import generate_events
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.sdk import AnalyticsClient
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import stack
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.timeutil import utc_now
from bench.common import Result, console


def payloads(count: int) -> list[dict]:
    return [e.as_payload() for e in generate_events(count, now=utc_now(), days=2)]


def bench_baseline(settings: Settings, project_id: str, events: list[dict]) -> Result:
    producer = build_kafka_producer(settings)
    topic = raw_topic(project_id)
    records = [(e["eventId"].encode(), json.dumps(e).encode()) for e in events]
    started = time.perf_counter()
    futures = [producer.send(topic, key=key, value=value) for key, value in records]
    for future in futures:
        future.get(timeout=60)
    elapsed = time.perf_counter() - started
    producer.close()
    return Result("baseline: kafka-python producer", len(events), elapsed, [])


def run_threads(threads: int, work: Callable[[int], list[float]]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        measured = work(index)
        with lock:
            latencies.extend(measured)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, latencies


def bench_http(url: str, api_key: str, events: list[dict], *, per_request: int, threads: int) -> Result:
    auth = {"Authorization": f"Bearer {api_key}"}
    chunks = [events[i : i + per_request] for i in range(0, len(events), per_request)]
    path = "/v1/batch" if per_request > 1 else "/v1/events"

    def work(index: int) -> list[float]:
        latencies = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for chunk in chunks[index::threads]:
                body = {"events": chunk} if per_request > 1 else chunk[0]
                started = time.perf_counter()
                response = client.post(path, json=body, headers=auth)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 202:
                    raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
        return latencies

    elapsed, latencies = run_threads(threads, work)
    label = (
        f"batch: POST /v1/batch x{per_request}, {threads} threads"
        if per_request > 1
        else (f"single: POST /v1/events, {threads} threads")
    )
    return Result(label, len(events), elapsed, latencies)


def bench_sdk(url: str, api_key: str, events: list[dict]) -> Result:
    started = time.perf_counter()
    with AnalyticsClient(api_key, url, flush_interval_s=0.05) as client:
        for e in events:
            client.track(
                e["eventType"], e["userId"], e["properties"], event_id=e["eventId"], timestamp=e["timestamp"]
            )
        client.flush()
        report = client.report()
    if report.failed or report.rejected:
        raise RuntimeError(f"SDK run incomplete: {report}")
    return Result("sdk: AnalyticsClient.track()", len(events), time.perf_counter() - started, [])


def report(results: list[Result], baseline: Result) -> None:
    table = Table(title="ingestion throughput (acks=all, dedup, validation)")
    for column in ("path", "events", "seconds", "events/s", "vs baseline", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for result in results:
        p50 = p99 = "-"
        if result.latencies_ms:
            quantiles = statistics.quantiles(result.latencies_ms, n=100)
            p50, p99 = f"{quantiles[49]:.1f}", f"{quantiles[98]:.1f}"
        table.add_row(
            result.name,
            f"{result.events:,}",
            f"{result.seconds:.2f}",
            f"{result.rate:,.0f}",
            f"{result.rate / baseline.rate:.2f}x",
            p50,
            p99,
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="events per path (single uses a quarter)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as home:
        # no Spark Connect server: it would idle beside the measurement with 2 GB
        settings = isolated_settings(Path(home), rate_limit_project="1000000/second", spark_connect_url="")
        try:  # stack.down stops whatever a partial stack.up started
            with console.status("starting a private Kafka, Redis and ingestion API ..."):
                stack.up(settings)
            store = MetadataStore(settings.metadata_database_url)
            project = provision_project(settings, store, f"bench-{uuid.uuid4().hex[:6]}")
            store.close()
            url = settings.ingest_api_url
            results = []
            with console.status("baseline: producer straight into Kafka ..."):
                results.append(bench_baseline(settings, project.project_id, payloads(args.events)))
            with console.status("POST /v1/batch ..."):
                results.append(
                    bench_http(url, project.api_key, payloads(args.events), per_request=500, threads=4)
                )
            with console.status("POST /v1/events ..."):
                single = payloads(max(args.events // 4, 100))
                results.append(bench_http(url, project.api_key, single, per_request=1, threads=16))
            with console.status("SDK ..."):
                results.append(bench_sdk(url, project.api_key, payloads(args.events)))
            topic = raw_topic(project.project_id)
            landed = sum(o.messages for o in topic_offsets(settings.kafka_bootstrap_servers, topic))
            report(results, results[0])
            console.print(f"events in {topic}: {landed:,} (expected {sum(r.events for r in results):,})")
        finally:
            stack.down(settings)


if __name__ == "__main__":
    main()
