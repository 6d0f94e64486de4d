"""Command line and run order: private Kafka, Redis and query API; the lake; latencies; the
aggregate through the service, in bare DuckDB and in Spark SQL; the report; everything stopped."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import httpx
from rich.table import Table

from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.realtime.windows import Granularity, format_window, window_start
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import QueryServer
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.timeutil import parse_rfc3339, utc_now
from bench.common import BenchError, console, print_checks, run_with_services
from bench.query.engines import bare_duckdb, spark_sql
from bench.query.lake import AGGREGATE, Answer, answer_of, hourly_counts, write_events
from bench.query.latency import Latency, sample_latency, timed

LATENCY_GOAL_MS = 10.0
MISS_GOAL_S = 2.0
ENGINE_SHARE_GOAL = 0.8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000, help="the measured project's events")
    parser.add_argument(
        "--other-events", type=int, default=1_000_000, help="another project's, never answered"
    )
    parser.add_argument("--requests", type=int, default=300, help="requests per latency round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, after one warm-up")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark SQL comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-query-") as home:
        settings = isolated_settings(Path(home))
        services = [RedisServer(settings), KafkaBroker(settings), QueryServer(settings)]
        return run_with_services(services, "Kafka, Redis and query API", lambda: run(settings, args))


def run(settings: Settings, args: argparse.Namespace) -> int:
    store = MetadataStore(settings.metadata_database_url)
    try:
        project = provision_project(settings, store, "bench query", "bench-query")
        provision_project(settings, store, "bench other", "bench-other")
    finally:
        store.close()
    expected = write_events(
        f"{settings.lake_root}/validated_events",
        project.project_id,
        args.events,
        "bench-other",
        args.other_events,
    )
    os.sync()  # the lake's pages are on disk before anything is timed, not written back meanwhile
    checks: list[tuple[str, bool]] = []
    with httpx.Client(
        base_url=settings.query_api_url, headers={"Authorization": f"Bearer {project.api_key}"}, timeout=120
    ) as client:
        latencies = measure_latencies(
            client, args, expected, checks, f"{settings.lake_root}/validated_events", project.project_id
        )
        misses, miss_answer = measure_misses(client, args.rounds)
    checks.append(("service: cache-miss answers = the counts built", miss_answer == expected))
    bare_s, bare_rows = bare_duckdb(f"{settings.lake_root}/validated_events", project.project_id, args.rounds)
    checks.append(("bare DuckDB: answer = the counts built", answer_of(bare_rows) == expected))
    spark_s = None
    if not args.no_spark:
        with console.status("Spark SQL over the same Delta table ..."):
            spark_s, spark_rows = spark_sql(
                settings, f"{settings.lake_root}/validated_events", project.project_id, args.rounds
            )
        checks.append(("Spark SQL: answer = the counts built", answer_of(spark_rows) == expected))
    report(args, latencies, statistics.median(misses), bare_s, spark_s, checks)
    return 0 if all(ok for _, ok in checks) else 1


def measure_latencies(  # noqa: PLR0917 - what both latency paths check against
    client: httpx.Client,
    args: argparse.Namespace,
    expected: Answer,
    checks: list[tuple[str, bool]],
    lake_path: str,
    project_id: str,
) -> list[Latency]:
    first = client.get("/v1/query", params={"sql": AGGREGATE}).json()
    checks.append(("the first SQL answer was computed, not cached", first.get("cached") is False))

    def cached(body: dict) -> None:
        if not body["cached"] or answer_of(body["rows"]) != expected:
            raise BenchError("a cached answer was not cached, or not the counts built")

    # The last 5 hours: Redis keeps two (and holds nothing here: no worker runs), the lake the
    # rest. A window that expires during the run moves to the lake and must then say the lake's count.
    hour = window_start(utc_now(), Granularity.HOUR)
    first_hour, end = hour - timedelta(hours=4), hour + timedelta(hours=1)
    lake_counts = hourly_counts(lake_path, project_id, first_hour, end)
    params = {"startTime": format_window(first_hour), "endTime": format_window(end), "granularity": "1h"}
    computed = client.get("/v1/metrics/all_events", params=params).json()
    checks.append(("the first metric answer's warehouse windows were computed", computed["cached"] is False))

    def five(body: dict) -> None:
        points = body["data"]
        if len(points) != 5 or body["source"] != "mixed":
            raise BenchError(f"the metric query did not answer 5 windows from Redis and the lake: {body}")
        for point in points:
            start = window_start(parse_rfc3339(point["timestamp"]), Granularity.HOUR)
            want = lake_counts.get(start, 0) if point["source"] == "warehouse" else 0
            if point["value"] != want:
                raise BenchError(f"window {point['timestamp']} says {point['value']}, not {want}")

    five(computed)
    recomputed = []

    def five_cached(body: dict) -> None:
        five(body)
        if not body["cached"]:
            recomputed.append(body)

    with console.status("latencies: cached SQL, 5-window metric ..."):
        latencies = [
            sample_latency(
                "cached SQL answer",
                lambda: client.get("/v1/query", params={"sql": AGGREGATE}),
                args.requests,
                args.rounds,
                cached,
            ),
            sample_latency(
                "metric query, 5 hourly windows (2 Redis, 3 lake, cached)",
                lambda: client.get("/v1/metrics/all_events", params=params),
                args.requests,
                args.rounds,
                five_cached,
            ),
        ]
    # One recomputation is allowed: a window that expires in Redis during the run changes the key.
    checks.append(("the sampled metric answers came from the query cache", len(recomputed) <= 1))
    return latencies


def measure_misses(client: httpx.Client, rounds: int) -> tuple[list[float], Answer]:
    """Each round asks a query the cache has not seen (the same aggregate, told apart by a
    predicate that is always true), so the lake answers every one."""
    times, answer = [], Answer({})
    with console.status("cache-miss aggregates through the service ..."):
        for round_ in range(rounds + 1):
            sql = AGGREGATE.replace("GROUP BY", f"WHERE {round_ + 100} = {round_ + 100} GROUP BY")
            seconds, body = timed(lambda sql=sql: client.get("/v1/query", params={"sql": sql}))
            if body["cached"]:
                raise BenchError("a cache-miss round was answered from the cache")
            answer = answer_of(body["rows"])
            if round_:
                times.append(seconds)
    return times, answer


def report(  # noqa: PLR0917 - every figure the run measured
    args: argparse.Namespace,
    latencies: list[Latency],
    miss_s: float,
    bare_s: float,
    spark_s: float | None,
    checks: list[tuple[str, bool]],
) -> None:
    table = Table(
        "path",
        "p50 ms",
        "p99 ms",
        "goal",
        title=f"query API latency: median of {args.rounds} rounds of {args.requests}",
    )
    for lat in latencies:
        verdict = "met" if lat.p99_ms <= LATENCY_GOAL_MS else "NOT met"
        table.add_row(
            lat.label, f"{lat.p50_ms:.2f}", f"{lat.p99_ms:.2f}", f"p99 <= {LATENCY_GOAL_MS:g} ms: {verdict}"
        )
    console.print(table)
    share = bare_s / miss_s
    engines = Table("path", "seconds", "vs bare DuckDB", title=f"{AGGREGATE}  over {args.events:,} events")
    engines.add_row("query API, cache miss", f"{miss_s:.2f}", f"{share:.2f}x")
    engines.add_row("bare DuckDB on the same files", f"{bare_s:.2f}", "1.00x")
    if spark_s is not None:
        engines.add_row(
            "Spark SQL (local[2]) on the same table", f"{spark_s:.2f}", f"{bare_s / spark_s:.2f}x"
        )
    console.print(engines)
    console.print(
        f"goal: a cache miss over {args.events:,} events in <= {MISS_GOAL_S:g} s: "
        f"{'met' if miss_s <= MISS_GOAL_S else 'NOT met'} ({miss_s:.2f} s); "
        f"the service >= {ENGINE_SHARE_GOAL:g}x the bare engine: "
        f"{'met' if share >= ENGINE_SHARE_GOAL else 'NOT met'} ({share:.2f}x)"
    )
    print_checks("every answer exact", checks)


if __name__ == "__main__":
    sys.exit(main())
