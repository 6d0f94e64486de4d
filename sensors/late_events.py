"""late_events_sensor: re-materializes daily_metrics of past days that an ETL run added events to.

It follows the materializations of validated_events; each carries the event dates its batch
added to. Every past day among them (today's partition does not exist yet) gets a
daily_metrics run, visible in the UI as a run for that partition.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from analytics_pipeline.timeutil import utc_now
from assets.keys import VALIDATED_EVENTS

PAGE = 100


def late_days(metadata: dict[str, dg.MetadataValue], today: date, first_day: date) -> list[date]:
    if not metadata.get("rows_added") or not metadata["rows_added"].value:
        return []
    dates = metadata.get("event_dates")
    days = [date.fromisoformat(d) for d in (dates.value if dates else [])]
    return sorted(d for d in days if first_day <= d < today)


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
        today = utc_now().date()
        requests: dict[date, dg.RunRequest] = {}
        for record in result.records:
            materialization = record.asset_materialization
            if materialization is None:
                continue
            for day in late_days(dict(materialization.metadata), today, first_day):
                requests.setdefault(
                    day,
                    dg.RunRequest(
                        run_key=f"late-{day.isoformat()}-{record.storage_id}",
                        partition_key=day.isoformat(),
                        tags={"analytics/trigger": "late-events"},
                    ),
                )
        if not result.records:
            return dg.SensorResult(skip_reason="no new validated_events materializations")
        return dg.SensorResult(run_requests=list(requests.values()), cursor=result.cursor)

    return late_events_sensor
