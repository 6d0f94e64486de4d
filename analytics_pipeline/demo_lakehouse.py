"""The demo's lakehouse part: wait until Dagster has carried the demo's events through the whole
graph, then show what each asset's last materialization says and where to look in the UI.

Nothing is triggered by hand: kafka_offsets_sensor requests the batch ETL, the commit sensor
moves the ``batch-etl`` group, and the late-events sensor recomputes daily_metrics for the past
days the events fell on. The demo only watches, so it shows what production does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics_pipeline.dagster_api import DagsterApiError, Materialization, latest_materializations
from analytics_pipeline.kafka_io.admin import group_progress
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now

LAKE_ASSETS = ("bronze_events", "validated_events", "quarantined_events", "daily_metrics")


@dataclass(frozen=True)
class LakehouseOutcome:
    materialized: bool
    days: list[date]  # past days whose daily_metrics the demo's events changed
    waited_s: float


def dagster_answers(settings: Settings) -> bool:
    try:
        return httpx.get(f"{settings.dagster_url}/server_info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def since(materializations: list[Materialization], start: datetime) -> list[Materialization]:
    return [m for m in materializations if m.timestamp_ms >= start.timestamp() * 1000]


def late_days(settings: Settings, start: datetime) -> set[date]:
    """Past days (daily_metrics partitions) the ETL runs since ``start`` added events to."""
    today = utc_now().date()
    days = set()
    for m in since(latest_materializations(settings.dagster_url, "validated_events", 50), start):
        if m.metadata.get("rows_added"):
            days |= {date.fromisoformat(d) for d in m.metadata.get("event_dates", [])}
    return {d for d in days if settings.lake_start_date <= d < today}


def wait_for_lakehouse(
    settings: Settings, console: Console, project_id: str, start: datetime, timeout_s: float = 900.0
) -> LakehouseOutcome:
    """Follow the sensors' work until every demo event is in the lake and its days are computed."""
    began = time.monotonic()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=None)
        while time.monotonic() - began < timeout_s:
            committed, total = group_progress(
                settings.kafka_bootstrap_servers, raw_topic(project_id), settings.etl_group
            )
            if committed < total:
                progress.update(
                    task,
                    description=(
                        f"kafka_batch_etl: {committed:,}/{total:,} demo records committed to "
                        f"{settings.etl_group} (the sensor batches every {settings.etl_sensor_interval_s} s, "
                        f"waits up to {settings.etl_max_wait_s:.0f} s)"
                    ),
                )
            else:
                days = late_days(settings, start)
                done = {
                    m.partition
                    for m in since(latest_materializations(settings.dagster_url, "daily_metrics", 100), start)
                }
                missing = sorted(d for d in days if d.isoformat() not in done)
                if not missing:
                    return LakehouseOutcome(True, sorted(days), time.monotonic() - began)
                progress.update(
                    task,
                    description=f"late_events_sensor -> daily_metrics: waiting for {len(missing)} day(s)",
                )
            time.sleep(2)
    return LakehouseOutcome(False, [], time.monotonic() - began)


def lakehouse_table(settings: Settings) -> Table:
    """Each lake asset's newest materialization and the figures it reported."""
    table = Table(
        "asset", "last materialized (UTC)", "what it says", title="the lakehouse, as Dagster saw it"
    )
    for asset in LAKE_ASSETS:
        newest = latest_materializations(settings.dagster_url, asset, 1)
        if not newest:
            table.add_row(asset, "never", "")
            continue
        m = newest[0]
        when = datetime.fromtimestamp(m.timestamp_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        shown = {
            k: v for k, v in m.metadata.items() if isinstance(v, int | float) and not k.startswith("dagster/")
        }
        label = f"{asset} [{m.partition}]" if m.partition else asset
        table.add_row(label, when, ", ".join(f"{k} {v:,}" for k, v in shown.items()))
    return table


def daily_table(settings: Settings, days: list[date]) -> Table:
    """Per recomputed day, what its newest daily_metrics run reported (a run may cover several)."""
    table = Table(
        "day", "events", "purchases", "projects", title="daily_metrics partitions the demo recomputed"
    )
    newest: dict[str, dict] = {}
    for m in latest_materializations(settings.dagster_url, "daily_metrics", 100):
        figures = (m.metadata.get("days") or {}).get(m.partition or "")
        if figures is not None:
            newest.setdefault(m.partition or "", figures)
    for day in days:
        figures = newest.get(day.isoformat())
        if figures is not None:
            table.add_row(
                day.isoformat(),
                f"{figures['events']:,}",
                f"{figures['purchases']:,}",
                str(figures["projects"]),
            )
    return table


def show_lakehouse(settings: Settings, console: Console, project_id: str, start: datetime) -> str | None:
    """The demo's last stage; what went wrong, or None when the whole graph materialized."""
    if not dagster_answers(settings):
        return f"Dagster does not answer at {settings.dagster_url} (`make status` shows what runs)"
    try:
        outcome = wait_for_lakehouse(settings, console, project_id, start)
        console.print(lakehouse_table(settings))
        if outcome.days:
            console.print(daily_table(settings, outcome.days))
    except (httpx.HTTPError, DagsterApiError) as exc:
        return f"could not read Dagster's state: {exc}"
    if not outcome.materialized:
        return (
            f"the graph had not materialized after {outcome.waited_s:.0f} s; "
            f"{settings.dagster_url}/runs shows where it stands"
        )
    console.print(f"the whole graph materialized {outcome.waited_s:.0f} s after the live part")
    return None
