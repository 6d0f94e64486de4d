"""kafka_offsets_sensor: records how far each project's raw topic has grown.

Each tick compares the latest offsets of every ``events.{project_id}`` topic with its cursor and
reports an observation of ``raw_events`` when any grew, so the asset shows its volume over time.
The batch ETL (a later issue) hangs its run requests, keyed by offset ranges, on this cursor.
"""

from __future__ import annotations

import json

import dagster as dg

from assets.streams import RAW_EVENTS
from orchestration.resources import KafkaResource


def offsets_growth(previous: dict[str, int], current: dict[str, int]) -> dict[str, int]:
    """New events per topic since ``previous``; a recreated (shrunk) topic counts from zero."""
    growth = {}
    for topic, end in current.items():
        start = previous.get(topic, 0)
        new = end - start if end >= start else end
        if new > 0:
            growth[topic] = new
    return growth


@dg.sensor(
    name="kafka_offsets_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Observes raw_events when the raw topics' offsets move.",
)
def kafka_offsets_sensor(context: dg.SensorEvaluationContext, kafka: KafkaResource) -> dg.SensorResult:
    previous = json.loads(context.cursor) if context.cursor else {}
    try:
        current = kafka.raw_topic_offsets()
    except Exception as exc:  # noqa: BLE001 - a tick that cannot reach Kafka says so and waits
        return dg.SensorResult(skip_reason=f"Kafka unreachable at {kafka.bootstrap_servers}: {exc}")
    growth = offsets_growth(previous, current)
    if not growth:
        return dg.SensorResult(
            skip_reason=f"no new events in {len(current)} raw topic(s) since the last tick"
        )
    observation = dg.AssetObservation(
        RAW_EVENTS,
        metadata={
            "new_events": sum(growth.values()),
            "total_events": sum(current.values()),
            "raw_topics": len(current),
            "new_events_by_topic": growth,
        },
    )
    return dg.SensorResult(asset_events=[observation], cursor=json.dumps(current, sort_keys=True))
