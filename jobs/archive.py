"""The archive job (launched by archival_sensor) and the schedule of its lag check."""

from __future__ import annotations

import dagster as dg

from keys import EVENTS_ARCHIVE

archive_events = dg.define_asset_job(
    "archive_events",
    selection=dg.AssetSelection.assets(EVENTS_ARCHIVE).without_checks(),
    executor_def=dg.in_process_executor,
    description=(
        "Writes exactly the Kafka offset ranges in its config to the archive bucket. Launched by "
        "archival_sensor, which commits the ranges to the archival group once the run succeeded."
    ),
)

archive_lag_job = dg.define_asset_job(
    "archive_lag_check",
    selection=dg.AssetSelection.checks_for_assets(EVENTS_ARCHIVE),
    description="Checks that no unarchived raw record is older than ANALYTICS_ARCHIVE_MAX_LAG_S.",
)

archive_lag_schedule = dg.ScheduleDefinition(
    name="archive_lag_schedule",
    job=archive_lag_job,
    cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
