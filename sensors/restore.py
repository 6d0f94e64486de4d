"""restore_rederive_sensor: after a successful archive_restore run, one daily_metrics run over its
closed days that first rebuilds their validated and quarantined events from bronze (as a backfill
does); the restore itself rebuilt today's, which has no partition yet."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from analytics_pipeline.archive.restore_request import RESTORE_OF_TAG, RESTORE_OP
from analytics_pipeline.lakehouse.offset_ranges import op_config
from analytics_pipeline.timeutil import utc_now
from jobs.restore import archive_restore
from keys import DAILY_METRICS_OP


def rederive_request(run: dg.DagsterRun, lake_start: date, today: date) -> dg.RunRequest | dg.SkipReason:
    config = op_config(run.run_config, RESTORE_OP)
    first = max(date.fromisoformat(config["first_day"]), lake_start)
    last = min(date.fromisoformat(config["last_day"]), today - timedelta(days=1))  # closed days only
    if last < first:
        return dg.SkipReason(f"run {run.run_id}: no closed day from {lake_start} on among its days")
    tags = {RESTORE_OF_TAG: run.run_id}
    if first == last:
        partition: dict[str, object] = {"partition_key": first.isoformat()}
    else:
        partition = {}
        tags |= {
            ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
        }
    return dg.RunRequest(
        run_key=f"rederive-{run.run_id}",
        run_config={"ops": {DAILY_METRICS_OP: {"config": {"rederive_validated": True}}}},
        tags=tags,
        **partition,  # type: ignore[arg-type]
    )


def build_restore_rederive_sensor(
    job: dg.UnresolvedAssetJobDefinition, lake_start: date
) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name="restore_rederive_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[archive_restore],
        request_job=job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Rebuilds validated events and daily_metrics from bronze for the days a restore rebuilt.",
    )
    def restore_rederive_sensor(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        return rederive_request(context.dagster_run, lake_start, utc_now().date())

    return restore_rederive_sensor
