"""late_events_sensor: re-materializes daily_metrics of past days that an ETL run added events to.

It follows the materializations of validated_events; each carries the event dates its batch
added to. Every past day among them (today's partition does not exist yet) gets a
daily_metrics run, visible in the UI as a run for that partition (one run per tick, over the
range of late days).
"""

from __future__ import annotations

from datetime import date

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from analytics_pipeline.timeutil import utc_now
from assets.keys import VALIDATED_EVENTS

PAGE = 100


def late_days(metadata: dict[str, dg.MetadataValue], today: date, first_day: date) -> list[date]:
    if not metadata.get("rows_added") or not metadata["rows_added"].value:
        return []
    dates = metadata.get("event_dates")
    days = [date.fromisoformat(d) for d in (dates.value if dates else [])]
    return sorted(d for d in days if first_day <= d < today)


def days_request(days: list[date], storage_id: int) -> dg.RunRequest:
    """One run over the days from the first to the last late one (the days between are cheap to
    recompute, and one Spark session beats one per day)."""
    first, last = days[0].isoformat(), days[-1].isoformat()
    tags = {
        "analytics/trigger": "late-events",
        "analytics/late-days": ",".join(d.isoformat() for d in days)[:200],
    }
    if first == last:
        return dg.RunRequest(run_key=f"late-{first}-{storage_id}", partition_key=first, tags=tags)
    return dg.RunRequest(
        run_key=f"late-{first}..{last}-{storage_id}",
        tags={**tags, ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
    )


def build_late_events_sensor(
    job: dg.UnresolvedAssetJobDefinition, first_day: date, interval_s: int
) -> dg.SensorDefinition:
    @dg.sensor(
        name="late_events_sensor",
        job=job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Recomputes daily_metrics for past days that new validated events fell on.",
    )
    def late_events_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        result = context.instance.fetch_materializations(
            VALIDATED_EVENTS, limit=PAGE, cursor=context.cursor, ascending=True
        )
        if not result.records:
            return dg.SensorResult(skip_reason="no new validated_events materializations")
        today = utc_now().date()
        days = sorted(
            {
                day
                for record in result.records
                if record.asset_materialization is not None
                for day in late_days(dict(record.asset_materialization.metadata), today, first_day)
            }
        )
        if not days:
            return dg.SensorResult(skip_reason="no past day got new events", cursor=result.cursor)
        return dg.SensorResult(
            run_requests=[days_request(days, result.records[-1].storage_id)], cursor=result.cursor
        )

    return late_events_sensor
