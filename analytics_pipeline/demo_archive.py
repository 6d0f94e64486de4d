"""The demo's archive part: wait until archival_sensor has archived every demo record (and the
``archival`` group committed them), then show the objects per partition."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from analytics_pipeline.archive.object_store import settings_archive_store
from analytics_pipeline.archive.report import archive_table
from analytics_pipeline.archive.summary import project_archive
from analytics_pipeline.demo_lakehouse import dagster_answers
from analytics_pipeline.kafka_io.admin import group_progress
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings


def show_archive(settings: Settings, console: Console, project_id: str) -> str | None:
    """The archive table; a problem message if archival did not catch up in time. Nothing when
    Dagster does not answer (its sensor archives; the lakehouse stage has said so already)."""
    if not dagster_answers(settings):
        return None
    timeout_s = settings.archive_max_wait_s + 4 * settings.archive_sensor_interval_s + 60
    began = time.monotonic()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=None)
        while (
            done := group_progress(
                settings.kafka_bootstrap_servers, raw_topic(project_id), settings.archive_group
            )
        )[0] < done[1]:
            if time.monotonic() - began > timeout_s:
                return (
                    f"{done[0]:,} of {done[1]:,} demo records archived after {timeout_s:.0f} s "
                    "(see the archive_events runs in the Dagster UI)"
                )
            progress.update(
                task,
                description=(
                    f"archive_events: {done[0]:,}/{done[1]:,} demo records committed to "
                    f"{settings.archive_group} "
                    f"(the sensor looks every {settings.archive_sensor_interval_s} s, "
                    f"waits up to {settings.archive_max_wait_s:.0f} s)"
                ),
            )
            time.sleep(2)
    console.print(archive_table(project_archive(settings_archive_store(settings), project_id)))
    return None
