"""The Kafka topics as external assets, so that lineage starts where the events enter."""

from __future__ import annotations

import dagster as dg

from keys import RAW_EVENTS, REALTIME_METRICS

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

realtime_metrics = dg.AssetSpec(
    REALTIME_METRICS,
    deps=[RAW_EVENTS],
    description=(
        "Per-window aggregates kept in Redis by the streaming worker (consumer group "
        "stream-processing over the raw topics): keys metric:{project}:{metric}:{granularity}:{window}, "
        "served by GET /v1/metrics/{metric} on the query service. Not computed by Dagster: the worker "
        "reports materializations over HTTP (POST /report_asset_materialization/realtime_metrics)."
    ),
    kinds={"redis"},
    group_name="streams",
    metadata={
        "key_pattern": "metric:{project}:{metric}:{granularity}:{window}",
        "consumer_group": "stream-processing",
        "served_by": "GET /v1/metrics/{metric}",
    },
)
