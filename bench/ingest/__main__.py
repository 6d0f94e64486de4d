"""Ingestion speed, each path beside its reference measured in the same run on the same events:

  HTTP ceiling   a bare uvicorn + FastAPI endpoint that parses the event and answers 202
  /v1/events     one event per request, driven like the ceiling (wrk, 2 threads, 32 connections)
  /v1/events     at a fixed 1,000 events/s offered: latency from when each request was due
  claim floor    the least a server must do to keep the API's guarantees (bench/ingest/floor.py):
                 validate, one Redis claim, the write acknowledged; as fast as it can and at
                 1,000 events/s, driven as /v1/events is
  raw producer   kafka-python writing the records the API writes (acks=all, idempotence, snappy),
                 as fast as it can, and at 1,000 records/s, each timed from when it was due
  /v1/batch      500 events per request (wrk, 2 threads, 16 connections: a connection stays with
                 the worker that accepted it, and with 4 the split between the two workers is
                 often 3 to 1 or 4 to 0, which halves the figure from one round to the next)
  SDK            AnalyticsClient.track() then flush(), default settings
  --curve        /v1/events also at 250, 500 and 750 events/s offered

Starts a private Kafka, Redis, ingestion API, the ceiling and the floor (nothing else: no stream worker, no
Dagster). Every path warms up once, then runs ``--rounds`` times; figures are medians. Exits 1
when an event answered 202 is missing from Kafka or is there twice, or a request failed.

Run: .venv/bin/python -m bench.ingest [--rounds 3] [--seconds 10] [--curve]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.loadgen.synthetic import generate_events
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import ProvisionedProject, provision_project
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.timeutil import utc_now
from bench.common import console, print_checks, run_with_services
from bench.ingest.ceiling import CeilingServer
from bench.ingest.floor import ClaimFloorServer
from bench.ingest.landed import Landing, landing
from bench.ingest.paths import EVENT_ID, api_records, event_ids, produce, produce_at_rate, track_all
from bench.ingest.wrk import Load, WrkRun, run_wrk, wrk_path

FIXED_RATE = 1_000
CURVE_RATES = (250, 500, 750)  # --curve: where below FIXED_RATE the latency goal holds
GOALS: dict[str, tuple[str, float | None]] = {  # path -> (reference, least ratio)
    "/v1/events": ("HTTP ceiling", 0.35),
    "claim floor": ("HTTP ceiling", None),
    "/v1/batch": ("raw producer", 0.6),
    "SDK": ("raw producer", 0.5),
}
P99_GOAL_MS = 10.0
FIXED_RATE_STRETCH = 1.5  # fixed-rate rounds run this many times --seconds: more samples for a p99


def _fixed_rate_path(rate: int) -> str:
    return f"/v1/events at {rate:,}/s"


FIXED_RATE_PATH = _fixed_rate_path(FIXED_RATE)


@dataclass
class PathRuns:
    """A path's measured rounds (events/s), and the ids its answers accepted in every round."""

    name: str
    project: ProvisionedProject | None
    rates: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    failed_requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per path, after a warm-up")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk round")
    parser.add_argument("--events", type=int, default=50_000, help="events per producer or SDK round")
    parser.add_argument(
        "--curve",
        action="store_true",
        help=f"also time /v1/events at {', '.join(f'{r:,}' for r in CURVE_RATES)} events/s offered",
    )
    args = parser.parse_args()
    wrk_path()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as home:
        settings = isolated_settings(Path(home), rate_limit_project="1000000/second", spark_connect_url="")
        services = [
            RedisServer(settings),
            KafkaBroker(settings),
            IngestServer(settings),
        ]
        ceiling, floor = CeilingServer(settings), ClaimFloorServer(settings)
        return run_with_services(
            [*services, ceiling, floor],
            "Kafka, Redis, ingestion API, HTTP ceiling and claim floor",
            lambda: run(settings, ceiling, floor, args),
        )


def run(settings: Settings, ceiling: CeilingServer, floor: ClaimFloorServer, args: argparse.Namespace) -> int:
    work = Path(settings.home) / "bench"
    work.mkdir()
    template = work / "event.json"
    event = next(iter(generate_events(1, now=utc_now(), days=1))).as_payload()
    template.write_text(json.dumps({**event, "eventId": EVENT_ID}))
    curve = CURVE_RATES if args.curve else ()
    names = [
        "single",
        "fixed",
        "floor",
        "floor-fixed",
        "batch",
        "sdk",
        "producer",
        "producer-fixed",
        *map(str, curve),
    ]
    projects = _projects(settings, names)
    api = settings.ingest_api_url

    def http(
        name: str, project: ProvisionedProject | None, url: str, bearer: str | None = None, **load: int
    ) -> PathRuns:
        key = bearer or (project.api_key if project else "unused")
        path = "/v1/batch" if load.get("events_per_request", 1) > 1 else "/v1/events"
        runs = PathRuns(name, project)
        seconds = args.seconds * (FIXED_RATE_STRETCH if load.get("rate") else 1)
        for index in range(args.rounds + 1):
            tag = f"{_slug(name)}-{index}-{uuid.uuid4().hex[:6]}"
            with console.status(f"{name}: {'warm-up' if index == 0 else f'round {index}'} ..."):
                done = run_wrk(
                    Load(url, path, template, key, **load), seconds / (2 if index == 0 else 1), tag, work
                )
            _record(runs, done, index, load.get("events_per_request", 1))
        return runs

    def fixed_rate(rate: int, project: ProvisionedProject) -> PathRuns:
        return http(_fixed_rate_path(rate), project, api, connections=16, rate=rate)

    paths = [
        http("HTTP ceiling", None, ceiling.url, connections=32),
        http("/v1/events", projects["single"], api, connections=32),
        *(fixed_rate(rate, projects[str(rate)]) for rate in curve),
        fixed_rate(FIXED_RATE, projects["fixed"]),
        http("claim floor", projects["floor"], floor.url, projects["floor"].project_id, connections=32),
        http(
            f"claim floor at {FIXED_RATE:,}/s",
            projects["floor-fixed"],
            floor.url,
            projects["floor-fixed"].project_id,
            connections=16,
            rate=FIXED_RATE,
        ),
        _producer_at_rate(settings, projects["producer-fixed"], template.read_text(), args),
        _in_process(
            "raw producer",
            projects["producer"],
            args,
            lambda ids: produce(
                settings, api_records(settings, projects["producer"].project_id, template.read_text(), ids)
            ),
        ),
        http("/v1/batch", projects["batch"], api, connections=16, events_per_request=500),
        _in_process(
            "SDK",
            projects["sdk"],
            args,
            lambda ids: track_all(api, projects["sdk"].api_key, template.read_text(), ids),
        ),
    ]
    _report(paths)
    landings = {
        runs.name: landing(
            settings.kafka_bootstrap_servers, raw_topic(runs.project.project_id), runs.accepted
        )
        for runs in paths
        if runs.project is not None
    }
    _report_landings(landings)
    checks = [
        (f"{name}: every event answered 202 is in Kafka once", got.exact) for name, got in landings.items()
    ]
    checks += [(f"{runs.name}: every request answered 202", runs.failed_requests == 0) for runs in paths]
    return 0 if print_checks("correctness", checks) else 1


def _slug(name: str) -> str:
    """A path's name as it goes into eventIds and file names."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _projects(settings: Settings, names: list[str]) -> dict[str, ProvisionedProject]:
    store = MetadataStore(settings.metadata_database_url)
    try:
        return {name: provision_project(settings, store, f"bench {name}", f"bench-{name}") for name in names}
    finally:
        store.close()


def _record(runs: PathRuns, done: WrkRun, index: int, events_per_request: int) -> None:
    runs.accepted += done.accepted
    runs.failed_requests += done.failures
    if index > 0:  # the warm-up's events are checked, not timed
        runs.rates.append(done.requests * events_per_request / done.seconds)
        runs.latencies_ms += done.latencies_ms


def _in_process(
    name: str,
    project: ProvisionedProject,
    args: argparse.Namespace,
    send: Callable[[list[str]], tuple[float, list[str]]],
) -> PathRuns:
    runs = PathRuns(name, project)
    for index in range(args.rounds + 1):
        count = args.events // 5 if index == 0 else args.events
        with console.status(
            f"{name}: {'warm-up' if index == 0 else f'round {index}'} ({count:,} events) ..."
        ):
            seconds, accepted = send(event_ids(f"{_slug(name)}-{index}", count))
        runs.accepted += accepted
        if index > 0:
            runs.rates.append(count / seconds)
    return runs


def _producer_at_rate(
    settings: Settings, project: ProvisionedProject, template: str, args: argparse.Namespace
) -> PathRuns:
    """The raw producer at the fixed rate, for as long as the API's fixed-rate rounds: the floor
    under the API's latency."""
    runs = PathRuns(f"raw producer at {FIXED_RATE:,}/s", project)
    seconds = args.seconds * FIXED_RATE_STRETCH
    for index in range(args.rounds + 1):
        count = int(FIXED_RATE * seconds / (2 if index == 0 else 1))
        ids = event_ids(f"producer-fixed-{index}", count)
        with console.status(f"{runs.name}: {'warm-up' if index == 0 else f'round {index}'} ..."):
            latencies_ms, accepted = produce_at_rate(
                settings, api_records(settings, project.project_id, template, ids), FIXED_RATE
            )
        runs.accepted += accepted
        if index > 0:
            runs.rates.append(FIXED_RATE)
            runs.latencies_ms += latencies_ms
    return runs


def _report(paths: list[PathRuns]) -> None:
    by_name = {runs.name: runs for runs in paths}
    table = Table(title="ingestion speed (median of the rounds; acks=all, validation, rate limits, dedup)")
    for column in ("path", "events/s", "rounds", "against", "ratio", "goal", ""):
        table.add_column(column, justify="left" if column in ("path", "against", "") else "right")
    for runs in paths:
        rounds = " ".join(f"{rate:,.0f}" for rate in runs.rates)
        reference, goal = GOALS.get(runs.name, ("", None))
        ratio = runs.rate / by_name[reference].rate if reference else None
        verdict = "" if goal is None or ratio is None else "met" if ratio >= goal else "[red]missed[/]"
        table.add_row(
            runs.name,
            f"{runs.rate:,.0f}",
            rounds,
            reference,
            f"{ratio:.2f}x" if ratio is not None else "",
            f">= {goal}x" if goal is not None else "",
            verdict,
        )
    console.print(table)
    for runs in paths:
        if runs.latencies_ms:
            q = statistics.quantiles(runs.latencies_ms, n=100)
            verdict = "met" if q[98] <= P99_GOAL_MS else "[red]missed[/]"
            goal = f" (goal <= {P99_GOAL_MS:g} ms: {verdict})" if runs.name == FIXED_RATE_PATH else ""
            console.print(
                f"{runs.name}: {len(runs.latencies_ms):,} answers, latency from when each was due: "
                f"p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms{goal}, max {max(runs.latencies_ms):.1f} ms"
            )


def _report_landings(landings: dict[str, Landing]) -> None:
    table = Table(
        "path",
        "answered 202",
        "missing",
        "twice",
        "landed without a 202",
        title="in Kafka (landed without a 202: in flight when wrk stopped, its answer never read)",
    )
    for name, got in landings.items():
        table.add_row(name, f"{got.accepted:,}", str(got.missing), str(got.doubled), str(got.unanswered))
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
