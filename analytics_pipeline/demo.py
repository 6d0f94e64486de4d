"""``make demo``: a project, its schemas, a realistic load, and what landed where."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from analytics_pipeline.demo_archive import show_archive
from analytics_pipeline.demo_lakehouse import show_lakehouse
from analytics_pipeline.demo_live import run_live
from analytics_pipeline.demo_query import show_read_side
from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic, processed_topic, raw_topic
from analytics_pipeline.loadgen.runner import run_generator
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.realtime.windows import Granularity, format_window, window_start
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.services import REPO_ROOT
from analytics_pipeline.timeutil import utc_now

DEMO_PROJECT = "demo"
LIVE_RATE = 150.0  # events/s in the live part: enough to see the minutes fill
SCHEMA_DIR = REPO_ROOT / "examples" / "schemas"


@dataclass(frozen=True)
class DemoProject:
    project_id: str
    api_key: str
    key_file: Path


def demo_project(settings: Settings, store: MetadataStore) -> DemoProject:
    """The demo project and a working key, kept in {home}/demo-project.json (mode 600)."""
    key_file = settings.home.resolve() / "demo-project.json"
    if store.get_project(DEMO_PROJECT) is None:
        api_key = provision_project(settings, store, DEMO_PROJECT, DEMO_PROJECT).api_key
    else:
        saved = json.loads(key_file.read_text()) if key_file.exists() else {}
        api_key = saved.get("api_key") or store.create_api_key(DEMO_PROJECT, label="demo")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(json.dumps({"project_id": DEMO_PROJECT, "api_key": api_key}))
    key_file.chmod(0o600)
    return DemoProject(DEMO_PROJECT, api_key, key_file)


def register_example_schemas(store: MetadataStore, project_id: str) -> list[str]:
    """Register each example schema unless its latest version is already the same."""
    registered = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text())
        latest = store.latest_schema(project_id, path.stem)
        if latest is None or latest.json_schema != schema:
            version = store.register_schema(project_id, path.stem, schema)
            registered.append(f"{path.stem} v{version}")
    return registered


def show_bad_input(console: Console, settings: Settings, api_key: str) -> tuple[list[str], str]:
    """What clients get for a duplicate, a schema violation and a bad envelope; the answers that
    differ from what the README promises, and the eventId of the one accepted."""
    auth = {"Authorization": f"Bearer {api_key}"}
    event = {"eventId": f"demo-{uuid.uuid4().hex}", "eventType": "page_view", "userId": "u-demo"}
    table = Table("request", "status", "answer", title="what clients are told")
    unexpected = []
    with httpx.Client(base_url=settings.ingest_api_url, timeout=10) as client:
        cases = [
            ("a new event", event, 202),
            ("the same eventId again", event, 409),
            (
                "purchase without orderId",
                {
                    **event,
                    "eventId": f"demo-{uuid.uuid4().hex}",
                    "eventType": "purchase",
                    "properties": {"amount": 3, "currency": "EUR"},
                },
                400,
            ),
            (
                "eventType 'Click!'",
                {**event, "eventId": f"demo-{uuid.uuid4().hex}", "eventType": "Click!"},
                400,
            ),
        ]
        for label, body, expected in cases:
            response = client.post("/v1/events", json=body, headers=auth)
            table.add_row(label, str(response.status_code), Text(_explain(response.json())))
            if response.status_code != expected:
                unexpected.append(f"{label!r} answered {response.status_code}, not {expected}")
    console.print(table)
    return unexpected, event["eventId"]


def _explain(answer: dict) -> str:
    if "errors" in answer:
        return "; ".join(f"{e['field']}: {e['message']}" for e in answer["errors"])
    return answer.get("message") or answer.get("status", "")


def run_demo(
    settings: Settings,
    console: Console,
    events: int = 5_000,
    live_seconds: float = 20.0,
    *,
    lakehouse: bool = True,
) -> list[str]:
    """The whole tour; returns what failed or timed out (nothing when every stage worked)."""
    started = utc_now()
    failures: list[str] = []
    store = MetadataStore(settings.metadata_database_url)
    try:
        project = demo_project(settings, store)
        schemas = register_example_schemas(store, project.project_id)
    finally:
        store.close()
    console.print(
        f"project [bold]{project.project_id}[/]; schemas registered: {', '.join(schemas) or 'up to date'}"
    )
    topic = raw_topic(project.project_id)
    before = {o.partition: o.latest for o in topic_offsets(settings.kafka_bootstrap_servers, topic)}
    summary = run_generator(
        api_url=settings.ingest_api_url,
        api_key=project.api_key,
        events=events,
        days=7,
        rate=None,
        seed=None,
        console=console,
    )
    if summary.delivered + summary.duplicates < events:
        failures.append(
            f"load: {summary.delivered:,} of {events:,} events delivered "
            f"({summary.rejected} rejected, {summary.failed} failed; see the messages above)"
        )
    unexpected, accepted_id = show_bad_input(console, settings, project.api_key)
    failures += [f"bad input: {problem}" for problem in unexpected]
    console.print(partition_table(settings, topic, before))
    live = run_live(
        console,
        api_url=settings.ingest_api_url,
        query_url=settings.query_api_url,
        api_key=project.api_key,
        seconds=live_seconds,
        rate=LIVE_RATE,
    )
    if not live.complete:
        failures.append(
            f"streaming: the metrics API counts {live.counted:,} of {live.delivered:,} live events "
            f"(is the stream worker running? see {settings.home.resolve() / 'logs'})"
        )
    if lakehouse:
        problem = show_lakehouse(settings, console, project.project_id, started)
        failures += [f"lakehouse: {problem}"] if problem else []
        archive_problem = show_archive(settings, console, project.project_id)
        failures += [f"archive: {archive_problem}"] if archive_problem else []
        if not problem:
            failures += show_read_side(settings, console, project.api_key, accepted_id)
    show_where_to_look(
        settings, console, project, delivered=summary.delivered, rate=summary.rate, live=live.delivered
    )
    return failures


def partition_table(settings: Settings, topic: str, before: dict[int, int]) -> Table:
    """Where the load landed: offsets per partition, and how evenly the keys spread."""
    offsets = topic_offsets(settings.kafka_bootstrap_servers, topic)
    table = Table("partition", "offsets", "new in this run", "share", title=f"{topic} in Kafka")
    new_total = sum(o.latest - before.get(o.partition, 0) for o in offsets) or 1
    for entry in offsets:
        new = entry.latest - before.get(entry.partition, 0)
        table.add_row(
            str(entry.partition),
            f"{entry.earliest}..{entry.latest}",
            str(new),
            "█" * round(30 * new / new_total),
        )
    return table


def show_where_to_look(
    settings: Settings, console: Console, project: DemoProject, *, delivered: int, rate: float, live: int
) -> None:
    today = window_start(utc_now(), Granularity.DAY)
    yesterday = (today - timedelta(days=1)).date().isoformat()
    worker_metrics = f"http://{settings.stream_host}:{settings.stream_metrics_port}/metrics"
    topic = raw_topic(project.project_id)
    console.print(
        Panel.fit(
            f"{delivered:,} events durable in Kafka ({rate:,.0f} events/s), then {live:,} live;\n"
            f"aggregated per minute, hour and day by the streaming worker.\n"
            f"Ingest API   {settings.ingest_api_url}/docs\n"
            f"Query API    {settings.query_api_url}/docs (metrics, SQL, event lookup)\n"
            f"Console      {settings.query_api_url}/console (charts, SQL, pipeline health)\n"
            f"Prometheus   {settings.ingest_api_url}/metrics (ingest API)\n"
            f"             {worker_metrics} (stream worker)\n"
            f"             http://{settings.exporter_host}:{settings.exporter_port}/metrics "
            "(lag, rates, dead letters, elections)\n"
            f"Topics       {topic}, {processed_topic(project.project_id)}, "
            f"{dead_letter_topic(project.project_id)}, metrics.*\n"
            f"Offsets      .venv/bin/analytics topics offsets {project.project_id}\n"
            f"Dagster UI   {settings.dagster_url}/asset-groups (lineage), {settings.dagster_url}/runs\n"
            f"Lake tables  {settings.lake_root}/ (one Delta table per asset)\n"
            f"Backfill     .venv/bin/analytics lakehouse backfill --start {yesterday}\n"
            f"Archive      s3://{settings.archive_bucket}/archive/{project.project_id}/ "
            f"at {settings.s3_endpoint_url}\n"
            f"             .venv/bin/analytics archive list --project {project.project_id}\n"
            f"Your key     {project.key_file}\n"
            f"Logs         {settings.home.resolve() / 'logs'}\n"
            f"Stop         make down",
            title="where to look",
        )
    )
    console.print(
        f"The console: {settings.query_api_url}/console (sign in with the key in {project.key_file})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "Today's purchases per hour:\n"
        f"  curl -H 'Authorization: Bearer {project.api_key}' "
        f"'{settings.query_api_url}/v1/metrics/purchase?granularity=1h"
        f"&startTime={format_window(today)}&endTime={format_window(today + timedelta(days=1))}'",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
