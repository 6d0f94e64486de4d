"""The lakehouse jobs and the schedule that closes each day."""

from __future__ import annotations

import dagster as dg

from keys import BRONZE_EVENTS, DAILY_METRICS, QUARANTINED_EVENTS, VALIDATED_EVENTS

kafka_batch_etl = dg.define_asset_job(
    "kafka_batch_etl",
    selection=dg.AssetSelection.assets(BRONZE_EVENTS, VALIDATED_EVENTS, QUARANTINED_EVENTS),
    executor_def=dg.in_process_executor,  # one Spark session, one step: no subprocess per step
    description=(
        "Reads exactly the Kafka offset ranges in its config into bronze, validated and quarantined "
        "events. Launched by kafka_offsets_sensor; batch_etl_commit_sensor commits the ranges to "
        "the batch-etl group once the run succeeded."
    ),
)


def build_daily_metrics_job() -> dg.UnresolvedAssetJobDefinition:
    """Partitioned like daily_metrics (Dagster infers it from the selection)."""
    return dg.define_asset_job(
        "daily_metrics_job",
        selection=dg.AssetSelection.assets(DAILY_METRICS),
        executor_def=dg.in_process_executor,
        description="Computes daily_metrics for one UTC day (schedule, late events, backfills).",
    )


def build_daily_metrics_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Yesterday's partition at 00:15 UTC, once the day's last events had time to arrive."""
    return dg.build_schedule_from_partitioned_job(
        job,
        name="daily_metrics_schedule",
        hour_of_day=0,
        minute_of_hour=15,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
