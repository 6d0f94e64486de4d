"""The names a restore is asked for by: the Dagster job, its config, its tags and the metadata it
reports. Kept here (no dagster import) so the CLI and the Dagster layer name them the same way."""

from __future__ import annotations

from datetime import date

RESTORE_JOB, RESTORE_OP = "archive_restore", "restore_bronze"
RESTORE_OF_TAG = "analytics/restore_of"  # on the daily_metrics run that rebuilds a restore's days
RESTORED_DAYS, RECORDS_READ, ROWS_ADDED = "restored_days", "records_read", "rows_added"


def restore_run_config(project: str, first: date, last: date) -> dict[str, object]:
    config = {"project": project, "first_day": first.isoformat(), "last_day": last.isoformat()}
    return {"ops": {RESTORE_OP: {"config": config}}}
