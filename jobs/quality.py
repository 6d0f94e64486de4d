"""Runs the raw-topic contract check every hour."""

from __future__ import annotations

import dagster as dg

from assets.streams import RAW_EVENTS

raw_events_quality_job = dg.define_asset_job(
    "raw_events_quality",
    selection=dg.AssetSelection.checks_for_assets(RAW_EVENTS),
    description="Samples the newest records of every raw topic and checks their contract.",
)

raw_events_quality_schedule = dg.ScheduleDefinition(
    name="raw_events_quality_schedule",
    job=raw_events_quality_job,
    cron_schedule="17 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
