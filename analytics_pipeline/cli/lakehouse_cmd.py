"""``analytics lakehouse backfill``: recompute daily_metrics over a date range, with progress.

The backfill is Dagster's own (the same as from the UI's Materialize > backfill): the daemon
runs one daily_metrics run per day, and each first rebuilds the day's validated events from
bronze. This command launches it through the webserver and follows it.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analytics_pipeline.cli.output import console, fail, stdout
from analytics_pipeline.dagster_api import (
    JUDGE_TAG,
    NEWEST_SCHEMAS,
    BackfillProgress,
    DagsterApiError,
    backfill_progress,
    launch_asset_backfill,
)
from analytics_pipeline.settings import get_settings
from analytics_pipeline.timeutil import utc_now

app = typer.Typer(help="The Delta Lake tables and their Dagster jobs.")

DAILY_METRICS = "daily_metrics"


def days_between(start: date, end: date) -> list[str]:
    """Every UTC day from ``start`` to ``end`` inclusive, as partition keys."""
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def check_range(
    start: date,
    end: date,
    first: date,
    today: date,
    *,
    start_option: str = "--start",
    end_option: str = "--end",
    today_allowed: bool = False,
) -> None:
    """Refuse a range outside the closed partitions (and today, when allowed); the options name
    what set each day."""
    if end < start:
        fail(f"{end_option} {end} lies before {start_option} {start}")
    if start < first:
        fail(f"{start_option} {start} lies before the first partition {first} (ANALYTICS_LAKE_START_DATE)")
    if today_allowed and end > today:
        fail(f"{end_option} {end} lies in the future: today is {today}")
    if not today_allowed and end >= today:
        fail(f"{end_option} {end} is not a closed day yet: the last partition is {today - timedelta(days=1)}")


def closed_days(
    start: str,
    end: str | None,
    first: date,
    *,
    start_option: str = "--start",
    end_option: str = "--end",
    today_allowed: bool = False,
) -> tuple[date, date]:
    """The days of two options (the second defaults to the first), checked by ``check_range``."""
    try:
        first_day, last_day = date.fromisoformat(start), date.fromisoformat(end or start)
    except ValueError as exc:
        fail(f"dates are YYYY-MM-DD: {exc}")
    check_range(
        first_day,
        last_day,
        first,
        utc_now().date(),
        start_option=start_option,
        end_option=end_option if end else start_option,
        today_allowed=today_allowed,
    )
    return first_day, last_day


@app.command("backfill")
def backfill(
    start: Annotated[str, typer.Option("--start", help="First UTC day, YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day (default: --start).")] = None,
    newest_schemas: Annotated[
        bool,
        typer.Option(
            "--newest-schemas",
            help="Judge each event by its type's newest schema, not the version it was accepted under.",
        ),
    ] = False,
    wait: Annotated[bool, typer.Option(help="Follow the backfill until it ends.")] = True,
    timeout_s: Annotated[float, typer.Option(help="Give up following after this long.")] = 3600.0,
) -> None:
    """Recompute daily_metrics for each day of a range, re-deriving validated and quarantined events
    from bronze (each judged by the schema version it was accepted under, unless --newest-schemas)."""
    settings = get_settings()
    first_day, last_day = closed_days(start, end, settings.lake_start_date)
    partitions = days_between(first_day, last_day)
    url = settings.dagster_url
    try:
        tags = {JUDGE_TAG: NEWEST_SCHEMAS} if newest_schemas else None
        backfill_id = launch_asset_backfill(url, DAILY_METRICS, partitions, tags=tags)
    except (httpx.HTTPError, DagsterApiError) as exc:
        fail(f"could not launch the backfill at {url} (is `make up` running?): {exc}")
    console.print(
        f"backfill [bold]{backfill_id}[/]: {len(partitions)} day(s), {partitions[0]}..{partitions[-1]}"
    )
    console.print(f"follow it in the UI: {url}/runs/b/{backfill_id}?tab=partitions")
    if not wait:
        stdout.print(backfill_id)
        return
    progress = follow(url, backfill_id, len(partitions), timeout_s)
    done = f"{progress.materialized}/{progress.targeted}"
    stdout.print(f"{progress.status}: {done} day(s) materialized, {progress.failed} failed")
    if not progress.succeeded:
        raise typer.Exit(1)


def follow(url: str, backfill_id: str, days: int, timeout_s: float) -> BackfillProgress:
    """Poll the backfill, drawing its progress, until it ends (or the timeout)."""
    deadline = time.monotonic() + timeout_s
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("daily_metrics", total=days)
        while True:
            state = backfill_progress(url, backfill_id)
            bar.update(
                task,
                completed=state.materialized + state.failed,
                description=f"daily_metrics [{state.status.lower()}, {state.in_progress} running]",
            )
            if state.finished or time.monotonic() > deadline:
                return state
            time.sleep(2)
