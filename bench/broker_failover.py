"""What clients see when one broker of three dies: a private 3-node KRaft cluster, Redis and the
ingestion API, a steady offered load through ``POST /v1/events`` (events retried with the same
eventId after a 503, as the SDK does), and per round one node SIGKILLed, restarted after a while
and waited for until every replica is back in sync. Rounds alternate between a node that leads
some of the raw topic's partitions but not the KRaft quorum, and the quorum's leader (the
active controller: a new one is elected before the dead node can be fenced). Figures per round
and their median per kind: how long after the kill clients were still answered 503, how long
some waited over a second, against the latency before the kill.
Exits 1 when an event answered 202 (or 409 after an earlier attempt) is missing from Kafka or
in it twice.

Run: .venv/bin/python -m bench.broker_failover [--rounds 3] [--rate 50]  (rounds of each kind)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.table import Table

from analytics_pipeline.kafka_io.admin import admin_client, read_spans, topic_offsets
from analytics_pipeline.kafka_io.replicas import partition_replicas
from analytics_pipeline.kafka_io.topics import project_topics, raw_topic
from analytics_pipeline.loadgen.steady import FaultWindow, SteadyLoad, fault_window
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaCluster
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.stack.redis_server import RedisServer
from bench.common import BenchError, console, print_checks, run_with_services

SKIPPED = "analytics_dedup_skipped_events_total"
WARM_S = 5.0  # steady state before the kill (the baseline latency)
SLOW_S = 1.0  # an answer slower than this counts as slow
# Concurrent requests at most: arrivals during a stall of a few seconds are sent, not queued,
# without swamping the service's event loop (256 made its Redis calls time out on this 2-core
# machine, and Redis away means dedup fails open: duplicates by design, not a Kafka fault).
CLIENTS = 64


@dataclass(frozen=True)
class Round:
    victim: int
    was_controller: bool
    window: FaultWindow
    before_p50_ms: float
    before_p99_ms: float
    settled: int
    missing: int
    doubled: int
    dedup_skipped: int  # accepted while Redis was away (fail open): may be doubled by design


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="kills of each kind, each on a fresh project")
    parser.add_argument("--rate", type=float, default=50.0, help="events offered per second")
    parser.add_argument("--down-s", type=float, default=15.0, help="how long the killed node stays down")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as home:
        settings = isolated_settings(Path(home), kafka_brokers=3, rate_limit_project="1000000/second")
        cluster = KafkaCluster(settings)
        try:
            with console.status("starting a private 3-node Kafka cluster ..."):
                cluster.ensure_running()
            services = [RedisServer(settings), IngestServer(settings)]
            return run_with_services(
                services, "Redis and ingestion API", lambda: run(settings, cluster, args)
            )
        finally:
            with console.status("stopping the cluster ..."):
                cluster.stop()


def run(settings: Settings, cluster: KafkaCluster, args: argparse.Namespace) -> int:
    rounds = []
    for number in range(1, 2 * args.rounds + 1):
        with console.status(f"round {number}: load, kill, restart, catch up ..."):
            result = one_round(settings, cluster, args, kill_controller=number % 2 == 0)
        rounds.append(result)
        console.print(
            f"round {number}: node {result.victim} killed"
            f"{' (the active controller)' if result.was_controller else ''}: 503s for "
            f"{result.window.refused_s:.1f} s, slow answers for {result.window.slow_s:.1f} s"
        )
    report(rounds, args)
    checks = [
        (
            f"round {n}: {r.settled:,} events answered 202/409, each in Kafka once "
            f"({r.missing} missing, {r.doubled} doubled, {r.dedup_skipped} accepted without dedup)",
            not r.missing and not r.doubled,
        )
        for n, r in enumerate(rounds, 1)
    ]
    return 0 if print_checks("nothing acknowledged lost or doubled", checks) else 1


def one_round(
    settings: Settings, cluster: KafkaCluster, args: argparse.Namespace, *, kill_controller: bool
) -> Round:
    bootstrap = settings.kafka_bootstrap_servers
    store = MetadataStore(settings.metadata_database_url)
    try:
        project = provision_project(settings, store, f"failover-{uuid.uuid4().hex[:8]}")
    finally:
        store.close()
    topic = raw_topic(project.project_id)
    topics = [t.name for t in project_topics(project.project_id, settings)]
    skipped_before = dedup_skipped(settings)
    load = SteadyLoad(settings.ingest_api_url, project.api_key, rate=args.rate, clients=CLIENTS).start()
    time.sleep(WARM_S)
    before = [a.seconds * 1000 for a in load.answers if a.status == 202]
    controller = active_controller(bootstrap)
    leaders = [p.leader for p in partition_replicas(bootstrap, [topic])]
    victim = controller if kill_controller else next(n for n in [*leaders, 1, 2, 3] if n != controller)
    was_controller = victim == controller
    killed_at = time.monotonic()
    cluster.node(victim).process.kill()
    time.sleep(args.down_s)
    cluster.node(victim).ensure_running()
    if not wait_until(lambda: all_in_sync(bootstrap, topics), 180, 0.5):
        raise BenchError(f"node {victim} did not catch up within 180 s of its restart")
    load.stop()
    counts = Counter(record.key.decode() for record in whole_topic(bootstrap, topic))
    quantiles = statistics.quantiles(before, n=100) if len(before) > 1 else [0.0] * 99
    return Round(
        victim,
        was_controller,
        fault_window(load.answers, killed_at, SLOW_S),
        quantiles[49],
        quantiles[98],
        len(load.settled),
        len(load.settled - set(counts)) + len(load.given_up),
        sum(1 for n in counts.values() if n > 1),
        dedup_skipped(settings) - skipped_before,
    )


def dedup_skipped(settings: Settings) -> int:
    """Events the ingestion API accepted without a dedup check so far (its /metrics)."""
    text = httpx.get(f"{settings.ingest_api_url}/metrics", timeout=10).text
    return int(sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(SKIPPED)))


def active_controller(bootstrap: str) -> int:
    with admin_client(bootstrap) as admin:
        return admin.describe_metadata_quorum()["topics"][0]["partitions"][0]["leader_id"]


def all_in_sync(bootstrap: str, topics: list[str]) -> bool:
    try:
        partitions = partition_replicas(bootstrap, topics, timeout_s=5.0)
    except Exception:  # noqa: BLE001 - a node is still starting: ask again
        return False
    covered = {p.topic for p in partitions} == set(topics)
    return covered and all(len(p.in_sync) == len(p.replicas) for p in partitions)


def whole_topic(bootstrap: str, topic: str):
    spans = {(topic, o.partition): (o.earliest, o.latest) for o in topic_offsets(bootstrap, topic)}
    return read_spans(bootstrap, spans, 60.0)


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    table = Table(
        "round",
        "node killed",
        "503 window s",
        "503s",
        f"slow (>{SLOW_S:g} s) window s",
        "slow answers",
        "p50 / p99 ms before",
        title=f"one broker of three SIGKILLed under {args.rate:g} events/s offered "
        f"(produce timeout 5 s), down {args.down_s:g} s",
    )
    for n, r in enumerate(rounds, 1):
        table.add_row(
            str(n),
            f"{r.victim}{' (controller)' if r.was_controller else ''}",
            f"{r.window.refused_s:.1f}",
            str(r.window.refused),
            f"{r.window.slow_s:.1f}",
            str(r.window.slow),
            f"{r.before_p50_ms:.0f} / {r.before_p99_ms:.0f}",
        )
    for kind, label in ((False, "median, not the controller"), (True, "median, the controller")):
        of_kind = [r for r in rounds if r.was_controller is kind]
        if of_kind:
            table.add_row(
                label,
                "",
                f"{statistics.median(r.window.refused_s for r in of_kind):.1f}",
                f"{statistics.median(r.window.refused for r in of_kind):g}",
                f"{statistics.median(r.window.slow_s for r in of_kind):.1f}",
                f"{statistics.median(r.window.slow for r in of_kind):g}",
                "",
            )
    console.print(table)


if __name__ == "__main__":
    raise SystemExit(main())
