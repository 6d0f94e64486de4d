"""The one assembly point of the Dagster code location (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.settings import Settings, get_settings
from assets.archive import events_archive
from assets.daily_metrics import build_daily_metrics
from assets.lakehouse import kafka_batch
from assets.streams import raw_events, realtime_metrics
from jobs.archive import archive_events, archive_lag_job, archive_lag_schedule
from jobs.lakehouse import build_daily_metrics_job, build_daily_metrics_schedule, kafka_batch_etl
from jobs.quality import raw_events_quality_job, raw_events_quality_schedule
from jobs.restore import archive_restore
from orchestration.partitions import daily_partitions
from orchestration.resources import build_resources
from quality.archive_keeps_up import archive_keeps_up
from quality.dead_letters_redriven import dead_letters_check
from quality.etl_batch_checks import kafka_batch_checks
from quality.hot_partitions import hot_partitions_check, produce_skew_check
from quality.raw_record_contract import raw_record_contract
from quality.realtime_matches_batch import realtime_matches_batch
from sensors.archival import build_archival_sensor
from sensors.dead_letters import build_dead_letter_sensor
from sensors.etl_commits import build_batch_etl_commit_sensor
from sensors.hot_partitions import build_hot_partition_sensor
from sensors.kafka_offsets import build_kafka_offsets_sensor
from sensors.late_events import build_late_events_sensor
from sensors.restore import build_restore_rederive_sensor


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = daily_partitions(settings.lake_start_date)
    daily_metrics_job = build_daily_metrics_job()
    return dg.Definitions(
        assets=[raw_events, realtime_metrics, kafka_batch, build_daily_metrics(partitions), events_archive],
        asset_checks=[
            raw_record_contract,
            kafka_batch_checks,
            realtime_matches_batch,
            archive_keeps_up,
            hot_partitions_check,
            produce_skew_check,
            dead_letters_check,
        ],
        jobs=[
            kafka_batch_etl,
            daily_metrics_job,
            raw_events_quality_job,
            archive_events,
            archive_lag_job,
            archive_restore,
        ],
        schedules=[
            build_daily_metrics_schedule(daily_metrics_job),
            raw_events_quality_schedule,
            archive_lag_schedule,
        ],
        sensors=[
            build_kafka_offsets_sensor(settings.etl_sensor_interval_s),
            build_batch_etl_commit_sensor(settings.etl_sensor_interval_s),
            build_late_events_sensor(
                daily_metrics_job,
                settings.lake_start_date,
                settings.etl_sensor_interval_s,
                settings.quality_recheck_s,
            ),
            build_archival_sensor(settings.archive_sensor_interval_s),
            build_restore_rederive_sensor(daily_metrics_job, settings.lake_start_date),
            build_hot_partition_sensor(settings.hot_partition_interval_s),
            build_dead_letter_sensor(),
        ],
        resources=build_resources(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Built when Dagster loads the location, not at import: settings are read from the environment here."""
    return build_definitions(get_settings())
