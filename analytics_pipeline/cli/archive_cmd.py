"""``analytics archive``: what the raw-event archive in object storage holds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import httpx
import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from analytics_pipeline.archive.object_store import settings_archive_store
from analytics_pipeline.archive.report import archive_table
from analytics_pipeline.archive.restore_request import (
    RESTORE_JOB,
    RESTORE_OF_TAG,
    ROWS_ADDED,
    restore_run_config,
)
from analytics_pipeline.archive.summary import project_archive
from analytics_pipeline.cli.lakehouse_cmd import closed_days
from analytics_pipeline.cli.output import console, fail, stdout
from analytics_pipeline.dagster_api import (
    DagsterApiError,
    RunState,
    latest_materializations,
    launch_job_run,
    runs,
)
from analytics_pipeline.settings import get_settings
from analytics_pipeline.timeutil import utc_now

app = typer.Typer(help="The raw-event archive in object storage (consumer group archival).")


@app.command("list")
def list_archive(
    project: Annotated[str, typer.Option("--project", help="Project id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Objects, offsets, records and bytes archived per partition of the project's raw topic."""
    settings = get_settings()
    try:
        archive = project_archive(settings_archive_store(settings), project)
    except (BotoCoreError, ClientError) as exc:
        fail(f"object storage at {settings.s3_endpoint_url} did not answer: {exc}")
    if as_json:
        stdout.print_json(json.dumps(archive.as_json()))
        return
    if not archive.partitions:
        console.print(f"nothing archived yet for {project} in s3://{archive.bucket}/")
        return
    stdout.print(archive_table(archive))


@app.command("restore")
def restore(
    project: Annotated[str, typer.Option("--project", help="Project id.")],
    first: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")],
    last: Annotated[str | None, typer.Option("--to", help="Last UTC day (default: --from).")] = None,
    timeout_s: Annotated[float, typer.Option(help="Give up following after this long.")] = 3600.0,
) -> None:
    """Rebuild bronze_events for the days from the archive, then their validated events and
    daily_metrics from bronze (Dagster's archive_restore job, then restore_rederive_sensor's run)."""
    settings = get_settings()
    first_day, last_day = closed_days(
        first, last, settings.lake_start_date, start_option="--from", end_option="--to", today_allowed=True
    )
    url = settings.dagster_url
    try:
        run_id = launch_job_run(url, RESTORE_JOB, restore_run_config(project, first_day, last_day))
    except (httpx.HTTPError, DagsterApiError) as exc:
        fail(f"could not launch {RESTORE_JOB} at {url} (is `make up` running?): {exc}")
    console.print(
        f"{RESTORE_JOB} run [bold]{run_id}[/]: {project} {first_day}..{last_day}; {url}/runs/{run_id}"
    )
    deadline = time.monotonic() + timeout_s
    restored = follow_run(
        f"{RESTORE_JOB}: bronze_events from the archive", lambda: runs(url, run_ids=[run_id]), deadline
    )
    if restored is None or restored.status != "SUCCESS":
        fail(f"{RESTORE_JOB} run {run_id} ended {ended(restored)}: see {url}/runs/{run_id}")
    try:
        newest = latest_materializations(url, "bronze_events", 20)
    except (httpx.HTTPError, DagsterApiError):
        newest = []
    added = next((m.metadata.get(ROWS_ADDED) for m in newest if m.run_id == run_id), None)
    console.print(f"bronze_events: {added if added is not None else '?'} rows restored")
    if min(last_day, utc_now().date() - timedelta(days=1)) < first_day:
        stdout.print(f"SUCCESS: {project} {first_day}..{last_day} restored ({added} bronze rows added)")
        return  # no closed day: the restore rebuilt today's validated events itself
    rederived = follow_run(
        "daily_metrics: validated events and metrics rebuilt from bronze",
        lambda: runs(url, tags={RESTORE_OF_TAG: run_id}),
        deadline,
    )
    if rederived is None or rederived.status != "SUCCESS":
        where = f"{url}/runs/{rederived.run_id}" if rederived else f"{url}/runs"
        fail(f"the daily_metrics run after the restore ended {ended(rederived)}: {where}")
    stdout.print(
        f"SUCCESS: {project} {first_day}..{last_day} restored ({added} bronze rows added) and rebuilt"
    )


def ended(state: RunState | None) -> str:
    return state.status if state else "unfinished (timed out)"


def follow_run(what: str, find: Callable[[], list[RunState]], deadline: float) -> RunState | None:
    """Poll until the run ``find()`` returns has finished (None at the deadline), with a spinner."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=None)
        while time.monotonic() < deadline:
            try:
                found = find()
            except (httpx.HTTPError, DagsterApiError) as exc:  # a webserver blip: ask again
                progress.update(task, description=f"{what} [webserver did not answer: {exc}]")
                time.sleep(2)
                continue
            state = found[0] if found else None
            progress.update(task, description=f"{what} [{state.status.lower() if state else 'requested'}]")
            if state is not None and state.finished:
                console.print(f"{what}: {state.status}")
                return state
            time.sleep(2)
    return None
