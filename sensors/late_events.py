"""late_events_sensor: re-materializes daily_metrics of past days whose validated events changed,
and of days the quality gate held back.

It follows the materializations of validated_events; each carries the event dates its batch
added to, and every past day among them (today's partition does not exist yet) gets a
daily_metrics run, one run per tick over the range of those days. It also follows daily_metrics:
a (project, day) the quality gate held back is remembered in the cursor and its day computed
again every ``recheck_s`` until a run writes it, so a day is recomputed once its gate opens,
whatever fixed its rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from analytics_pipeline.timeutil import utc_now
from keys import DAILY_METRICS, HELD_METADATA, VALIDATED_EVENTS

PAGE = 100


@dataclass
class LateEventsCursor:
    """Where the sensor is in each asset's materializations, and the days held back."""

    validated: str | None = None
    daily: str | None = None
    held: dict[str, list[str]] = field(default_factory=dict)  # day -> projects held on it
    recheck_at: float = 0.0  # epoch seconds of the next recomputation of the held days

    @classmethod
    def parse(cls, text: str | None) -> LateEventsCursor:
        if not text:
            return cls()
        if not text.startswith("{"):  # the cursor of the earlier sensor: validated_events only
            return cls(validated=text)
        return cls(**json.loads(text))

    def dumps(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def late_days(metadata: dict[str, dg.MetadataValue], today: date, first_day: date) -> list[date]:
    if not metadata.get("rows_added") or not metadata["rows_added"].value:
        return []
    dates = metadata.get("event_dates")
    days = [date.fromisoformat(d) for d in (dates.value if dates else [])]
    return sorted(d for d in days if first_day <= d < today)


def update_held(held: dict[str, list[str]], partition_days: list[str], metadata: dict) -> None:
    """After a daily_metrics run over ``partition_days``: its held pairs replace what was known
    of those days (a day it wrote in full is released)."""
    reported = metadata.get(HELD_METADATA)
    now_held = reported.value if reported is not None else {}
    for day in partition_days:
        held.pop(day, None)
    for day, projects in now_held.items():
        held[day] = sorted(projects)


def days_request(days: list[date], key: str, trigger: str) -> dg.RunRequest:
    """One run over the days from the first to the last (the days between are cheap to
    recompute, and one Spark session beats one per day)."""
    first, last = days[0].isoformat(), days[-1].isoformat()
    tags = {"analytics/trigger": trigger, "analytics/late-days": ",".join(d.isoformat() for d in days)[:200]}
    if first == last:
        return dg.RunRequest(run_key=f"late-{first}-{key}", partition_key=first, tags=tags)
    return dg.RunRequest(
        run_key=f"late-{first}..{last}-{key}",
        tags={**tags, ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
    )


def _partition_days(record: dg.EventLogRecord) -> list[str]:
    """The days a daily_metrics materialization covers (one event per partition)."""
    materialization = record.asset_materialization
    return [materialization.partition] if materialization is not None and materialization.partition else []


def build_late_events_sensor(
    job: dg.UnresolvedAssetJobDefinition, first_day: date, interval_s: int, recheck_s: int
) -> dg.SensorDefinition:
    @dg.sensor(
        name="late_events_sensor",
        job=job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Recomputes daily_metrics for past days that new validated events fell on, and for "
            "days the quality gate held back, until they are written."
        ),
    )
    def late_events_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = LateEventsCursor.parse(context.cursor)
        instance, today = context.instance, utc_now().date()
        validated = instance.fetch_materializations(
            VALIDATED_EVENTS, limit=PAGE, cursor=cursor.validated, ascending=True
        )
        daily = instance.fetch_materializations(
            DAILY_METRICS, limit=PAGE, cursor=cursor.daily, ascending=True
        )
        for record in daily.records:
            if record.asset_materialization is not None:
                update_held(cursor.held, _partition_days(record), dict(record.asset_materialization.metadata))
        cursor.validated, cursor.daily = validated.cursor or cursor.validated, daily.cursor or cursor.daily
        late = {
            day
            for record in validated.records
            if record.asset_materialization is not None
            for day in late_days(dict(record.asset_materialization.metadata), today, first_day)
        }
        now = utc_now().timestamp()
        recheck = bool(cursor.held) and now >= cursor.recheck_at
        if recheck:
            late |= {date.fromisoformat(day) for day in cursor.held}
            cursor.recheck_at = now + recheck_s
        if not late:
            reason = "no past day got new events"
            if cursor.held:
                reason += f"; {len(cursor.held)} held day(s) are computed again at {_at(cursor.recheck_at)}"
            return dg.SensorResult(skip_reason=reason, cursor=cursor.dumps())
        key = str(validated.records[-1].storage_id) if validated.records else f"recheck-{int(now)}"
        trigger = "quality-recheck" if recheck and not validated.records else "late-events"
        return dg.SensorResult(run_requests=[days_request(sorted(late), key, trigger)], cursor=cursor.dumps())

    return late_events_sensor


def _at(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%H:%M:%S UTC")
