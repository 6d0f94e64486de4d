"""The offset ranges recent runs of a job were configured with: what a commit or a retry follows."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, op_ranges

RECENT_RUNS = 500  # runs looked at per tick; far more than finish in one sensor interval


def runs_with_ranges(
    instance: dg.DagsterInstance,
    job_name: str,
    op: str,
    status: dg.DagsterRunStatus,
    *,
    limit: int = RECENT_RUNS,
    created_after: datetime | None = None,
) -> list[tuple[dg.DagsterRun, list[OffsetRange]]]:
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=[status], created_after=created_after), limit=limit
    )
    return [(record.dagster_run, op_ranges(record.dagster_run.run_config, op)) for record in records]


def succeeded_ranges(
    instance: dg.DagsterInstance, job_name: str, op: str, created_after: datetime | None = None
) -> list[OffsetRange]:
    """The ranges of recent successful runs (of those created after ``created_after``, if given)."""
    runs = runs_with_ranges(instance, job_name, op, dg.DagsterRunStatus.SUCCESS, created_after=created_after)
    return [r for _run, ranges in runs for r in ranges]
