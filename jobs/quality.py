"""Runs the raw-topic contract check every hour."""

from __future__ import annotations

import dagster as dg

from keys import RAW_EVENTS, SENSOR_CHECK_NAMES

raw_events_quality_job = dg.define_asset_job(
    "raw_events_quality",
    # hot_partition_sensor and dead_letter_sensor report their checks; an hourly look (without
    # the sustain time) would overwrite them
    selection=dg.AssetSelection.checks_for_assets(RAW_EVENTS)
    - dg.AssetSelection.checks(*(dg.AssetCheckKey(RAW_EVENTS, name) for name in SENSOR_CHECK_NAMES)),
    description="Samples the newest records of every raw topic and checks their contract.",
)

raw_events_quality_schedule = dg.ScheduleDefinition(
    name="raw_events_quality_schedule",
    job=raw_events_quality_job,
    cron_schedule="17 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
