"""The one assembly point of the Dagster code location (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.settings import get_settings
from assets.streams import raw_events, realtime_metrics
from jobs.quality import raw_events_quality_job, raw_events_quality_schedule
from orchestration.resources import build_resources
from quality.checks import raw_record_contract
from sensors.kafka_offsets import kafka_offsets_sensor


@dg.definitions
def defs() -> dg.Definitions:
    """Built when Dagster loads the location, not at import: settings are read from the environment here."""
    return dg.Definitions(
        assets=[raw_events, realtime_metrics],
        asset_checks=[raw_record_contract],
        jobs=[raw_events_quality_job],
        schedules=[raw_events_quality_schedule],
        sensors=[kafka_offsets_sensor],
        resources=build_resources(get_settings()),
    )
