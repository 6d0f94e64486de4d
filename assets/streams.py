"""The Kafka topics as external assets, so that lineage starts where the events enter."""

from __future__ import annotations

import dagster as dg

RAW_EVENTS = dg.AssetKey("raw_events")

raw_events = dg.AssetSpec(
    RAW_EVENTS,
    description=(
        "Every accepted event, one Kafka topic per project: events.{project_id}, keyed by eventId, "
        "7 days retention. Written by the ingestion service after acks=all; observed by "
        "kafka_offsets_sensor."
    ),
    kinds={"kafka"},
    group_name="streams",
    metadata={"topic_pattern": "events.{project_id}", "retention": "7 days", "key": "eventId"},
)
