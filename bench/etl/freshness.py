"""End-to-end freshness on a running stack: from the ingestion API's 202 to the event being
queryable in validated_events, with kafka_batch_etl runs launched by the Dagster daemon.

An event is queryable from the validated_events commit that first holds it, so its freshness is
that commit's timestamp minus the 202's: no polling delay is in the figure. The commit is found
by reading each new table version once (versions are few: one write per run). The runs' creation
and start times, and their batch steps' start times, come from the webserver's GraphQL API, which
splits freshness into its parts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.dagster_services import graphql
from analytics_pipeline.timeutil import utc_now
from bench.common import BenchError
from bench.stream.progress import progress_bar
from bench.stream.workload import EventSource, create_project
from keys import BATCH_OP

ETL_JOB = "kafka_batch_etl"
RUNS_QUERY = """{ runsOrError(filter: {pipelineName: "%s"}) { __typename
  ... on Runs { results { runId status creationTime startTime endTime tags { key value }
    stepStats { stepKey startTime } } }
  ... on PythonError { message } } }"""  # %-formatted: GraphQL's braces would need doubling for .format
RUN_KEY_TAG = "dagster/run_key"  # the sensor's run key: the batch id run_batch writes into every row
RECORDS_TAG = "analytics/records"
FRESHNESS = "202 -> queryable (freshness)"
WAIT = "202 -> run requested (sensor ticks, max wait)"
LAUNCH = "requested -> run started (queue, launch)"
POOL = "run started -> batch step started (the lake pool)"
WORK = "batch step started -> validated commit (Spark, ETL)"
WAIT_AFTER_RUN_S = 240.0  # beyond interval + max wait: a run's start and its Spark work, on a busy machine


@dataclass(frozen=True)
class Sample:
    event_id: str
    accepted_at: float  # epoch seconds when the 202 arrived


@dataclass(frozen=True)
class Landing:
    version: int
    committed_at: float  # epoch seconds of the validated_events commit that first holds the event
    batch_id: str


@dataclass(frozen=True)
class EtlRun:
    run_id: str
    status: str
    run_key: str | None
    records: int | None
    created: float  # when the sensor's tick requested it
    started: float | None  # when its process reported the run started (after queue and launch)
    ended: float | None
    writing: float | None  # when its kafka_batch step started (it holds the lake pool from then)


@dataclass(frozen=True)
class Landed:
    """One sampled event that became queryable, with the run that made it so."""

    sample: Sample
    landing: Landing
    run: EtlRun | None

    @property
    def freshness(self) -> float:
        return self.landing.committed_at - self.sample.accepted_at

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run else None

    def spans(self) -> tuple[float, float, float, float] | None:
        """(202 -> run requested, requested -> started, started -> step started, step started ->
        commit), when the run is known."""
        if self.run is None or self.run.started is None or self.run.writing is None:
            return None
        run = self.run
        return (
            run.created - self.sample.accepted_at,
            run.started - run.created,
            run.writing - run.started,
            self.landing.committed_at - run.writing,
        )


@dataclass(frozen=True)
class FreshnessRun:
    samples: list[Sample]
    landed: list[Landed]
    runs: list[EtlRun]  # those requested after the warm-up landed
    cold_s: float  # the warm-up event's freshness: the stack's first batch, not in the figures

    @property
    def origin(self) -> float:
        return min(s.accepted_at for s in self.samples)

    def waits_by_run(self) -> dict[str, list[float]]:
        """202 -> run requested of each run's samples."""
        waits: dict[str, list[float]] = {}
        for x in self.landed:
            if x.run is not None:
                waits.setdefault(x.run.run_id, []).append(x.run.created - x.sample.accepted_at)
        return waits

    def components(self) -> dict[str, list[float]]:
        """Freshness and the four spans it is made of (for the events whose run is known)."""
        spans = [x.spans() for x in self.landed]
        known = [span for span in spans if span is not None]
        return {
            FRESHNESS: [x.freshness for x in self.landed],
            WAIT: [span[0] for span in known],
            LAUNCH: [span[1] for span in known],
            POOL: [span[2] for span in known],
            WORK: [span[3] for span in known],
        }


def project_with_key(settings: Settings) -> tuple[str, str]:
    project_id = create_project(settings)
    store = MetadataStore(settings.metadata_database_url)
    try:
        return project_id, store.create_api_key(project_id, label="bench.etl freshness")
    finally:
        store.close()


def post_events(settings: Settings, api_key: str, seconds: float, rate: float, seed: int) -> list[Sample]:
    """One event per request at ``rate`` for ``seconds``, as a light steady load; each 202 timed.
    Each ``seed`` draws other event ids."""
    source, samples = EventSource(seed=seed), []
    total = max(1, round(seconds * rate))
    headers = {"Authorization": f"Bearer {api_key}"}
    with (
        httpx.Client(base_url=settings.ingest_api_url, headers=headers, timeout=10.0) as client,
        progress_bar() as progress,
    ):
        task = progress.add_task("freshness: POST /v1/events", total=total)
        started = time.monotonic()
        for n in range(total):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            payload = source.payloads(1, now=utc_now(), span_s=0.0)[0]
            response = client.post("/v1/events", json=payload)
            if response.status_code != 202:
                raise BenchError(f"POST /v1/events answered {response.status_code}: {response.text[:300]}")
            samples.append(Sample(payload["eventId"], time.time()))
            progress.update(task, completed=n + 1)
    return samples


def commit_versions(table: Path) -> list[int]:
    return sorted(int(p.stem) for p in (table / "_delta_log").glob("*.json") if p.stem.isdigit())


def landings_in(spark: SparkSession, table: str, version: int, event_ids: list[str]) -> dict[str, Landing]:
    """The sampled events that version ``version`` of the table holds, with its commit timestamp."""
    rows = (
        spark.read.format("delta")
        .option("versionAsOf", version)
        .load(table)
        .where(F.col("eventId").isin(event_ids))
        .select("eventId", "batchId")
        .collect()
    )
    if not rows:
        return {}
    history = DeltaTable.forPath(spark, table).history().where(f"version = {version}")
    committed_us = history.selectExpr("unix_micros(timestamp) AS us").first()["us"]
    return {row.eventId: Landing(version, committed_us / 1e6, row.batchId) for row in rows}


def wait_queryable(
    spark: SparkSession, settings: Settings, samples: list[Sample], timeout_s: float
) -> dict[str, Landing]:
    """Each new version of validated_events read once, until every sample is in or the time is up."""
    table = LakeTables(settings.lake_root).validated_events
    landed: dict[str, Landing] = {}
    seen, deadline = -1, time.monotonic() + timeout_s
    with progress_bar() as progress:
        task = progress.add_task("freshness: events queryable in validated_events", total=len(samples))
        while len(landed) < len(samples) and time.monotonic() < deadline:
            for version in (v for v in commit_versions(Path(table)) if v > seen):
                pending = [s.event_id for s in samples if s.event_id not in landed]
                landed |= landings_in(spark, table, version, pending)
                seen = version
            progress.update(task, completed=len(landed))
            time.sleep(1.0)
    return landed


def etl_runs(settings: Settings) -> list[EtlRun]:
    data = graphql(settings.dagster_url, RUNS_QUERY % ETL_JOB)["runsOrError"]
    if data["__typename"] != "Runs":
        raise BenchError(f"the webserver could not list the {ETL_JOB} runs: {data}")
    runs = []
    for run in data["results"]:
        tags = {t["key"]: t["value"] for t in run["tags"]}
        records = tags.get(RECORDS_TAG)
        writing = [step["startTime"] for step in run["stepStats"] if step["stepKey"] == BATCH_OP]
        runs.append(
            EtlRun(
                run["runId"],
                run["status"],
                tags.get(RUN_KEY_TAG),
                int(records) if records else None,
                run["creationTime"],
                run["startTime"],
                run["endTime"],
                writing[0] if writing else None,
            )
        )
    return sorted(runs, key=lambda r: r.created)


def measure_freshness(spark: SparkSession, settings: Settings, seconds: float, rate: float) -> FreshnessRun:
    """A warm-up event first, measured apart: the stack's first batch also pays for what is done
    once per lake (its tables created), though `stack up` has run a scratch batch through the
    Spark server it started."""
    _project_id, api_key = project_with_key(settings)
    timeout_s = settings.etl_sensor_interval_s + settings.etl_max_wait_s + WAIT_AFTER_RUN_S
    warm_up = post_events(settings, api_key, 0.0, rate, seed=3)
    warm_landing = wait_queryable(spark, settings, warm_up, timeout_s).get(warm_up[0].event_id)
    if warm_landing is None:
        raise BenchError(f"the warm-up event never reached validated_events within {timeout_s:g} s")
    samples = post_events(settings, api_key, seconds, rate, seed=4)
    landings = wait_queryable(spark, settings, samples, timeout_s)
    runs = [run for run in etl_runs(settings) if run.created >= warm_landing.committed_at]
    by_key = {r.run_key: r for r in runs}
    landed = [Landed(s, landings[s.event_id], by_key.get(landings[s.event_id].batch_id)) for s in samples
              if s.event_id in landings]  # fmt: skip
    if not landed:
        statuses = ", ".join(f"{r.run_id[:8]} {r.status}" for r in runs) or "none"
        raise BenchError(
            f"no sampled event reached validated_events within {timeout_s:g} s; {ETL_JOB} runs: {statuses}; "
            "the stack's logs are kept where the line above says"
        )
    return FreshnessRun(samples, landed, runs, warm_landing.committed_at - warm_up[0].accepted_at)
