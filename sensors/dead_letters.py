"""dead_letter_sensor: the dead letters of every project, in the UI.

Each tick counts, per project, the dead letters held and those never redriven. When the counts
change, it records an observation of raw_events with them and reports the dead_letters_redriven
check (WARN while any letter waits). The counts last reported are the cursor.
"""

from __future__ import annotations

import json

import dagster as dg

from keys import RAW_EVENTS
from quality.dead_letters_redriven import check_evaluation
from resources.kafka import DeadLetterResource

INTERVAL_S = 60


def build_dead_letter_sensor(interval_s: int = INTERVAL_S) -> dg.SensorDefinition:
    @dg.sensor(
        name="dead_letter_sensor",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Dead letters per project on raw_events; WARNs while some were never redriven.",
    )
    def dead_letter_sensor(
        context: dg.SensorEvaluationContext, dead_letters: DeadLetterResource
    ) -> dg.SensorResult:
        try:
            counts = dead_letters.counts()
        except Exception as exc:  # noqa: BLE001 - a tick that cannot reach Kafka says so and waits
            return dg.SensorResult(skip_reason=f"could not count dead letters: {exc}", cursor=context.cursor)
        seen = json.dumps({p: [c.held, c.waiting] for p, c in sorted(counts.items())}, sort_keys=True)
        if seen == context.cursor:
            return dg.SensorResult(skip_reason="dead letters unchanged", cursor=seen)
        waiting = sum(c.waiting for c in counts.values())
        if waiting:
            context.log.warning(
                f"{waiting:,} dead letter(s) wait for a redrive: analytics dlq list --project P"
            )
        observation = dg.AssetObservation(
            RAW_EVENTS,
            metadata={
                "dead_letters": sum(c.held for c in counts.values()),
                "dead_letters_waiting": waiting,
                "dead_letters_by_project": dg.MetadataValue.json(
                    {p: {"held": c.held, "waiting": c.waiting} for p, c in sorted(counts.items())}
                ),
            },
        )
        return dg.SensorResult(asset_events=[observation, check_evaluation(counts)], cursor=seen)

    return dead_letter_sensor
