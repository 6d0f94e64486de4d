"""The names of the Dagster graph (asset keys, check, op and group names, pools), written once.

A leaf: assets, sensors, jobs and quality import it, and it imports nothing of the project, so
imports run one way (orchestration -> sensors -> jobs -> assets -> quality -> keys -> analytics_pipeline).
"""

from __future__ import annotations

import dagster as dg

RAW_EVENTS = dg.AssetKey("raw_events")
REALTIME_METRICS = dg.AssetKey("realtime_metrics")
BRONZE_EVENTS = dg.AssetKey("bronze_events")
VALIDATED_EVENTS = dg.AssetKey("validated_events")
QUARANTINED_EVENTS = dg.AssetKey("quarantined_events")
DAILY_METRICS = dg.AssetKey("daily_metrics")
EVENTS_ARCHIVE = dg.AssetKey("events_archive")

# The ops whose run config is keyed by them: daily_metrics, and the two that carry offset ranges.
DAILY_METRICS_OP = "daily_metrics"
BATCH_OP = "kafka_batch"  # the lakehouse multi-asset (bronze, validated, quarantined)
BATCH_CHECKS_OP = "kafka_batch_checks"  # its reconciliation and GX checks, a step after it
ARCHIVE_OP = EVENTS_ARCHIVE.path[-1]

# daily_metrics' metadata entry naming the (project, day) pairs its quality gate held back
# ({day: {project: rows too many}}); late_events_sensor reads it to compute them again.
HELD_METADATA = "held"

# dagster.yaml: one step of this pool at a time, so two writers never meet on a Delta table.
LAKE_POOL = "lake"

# raw_events' checks that hot_partition_sensor reports (WARN while a partition is out of line).
HOT_PARTITIONS_CHECK = "hot_partitions"
PRODUCE_SKEW_CHECK = "produce_skew"
HOT_CHECK_NAMES = (HOT_PARTITIONS_CHECK, PRODUCE_SKEW_CHECK)

# raw_events' check that dead_letter_sensor reports (WARN while dead letters wait for a redrive).
DEAD_LETTERS_CHECK = "dead_letters_redriven"

# raw_events' checks their sensors report; a scheduled look of its own would overwrite them.
SENSOR_CHECK_NAMES = (*HOT_CHECK_NAMES, DEAD_LETTERS_CHECK)

# Checks the lakehouse steps report themselves (their specs live in quality/).
BATCH_RECONCILIATION = "batch_reconciliation"
BRONZE_EXPECTATIONS = "bronze_expectations"
MATCHES_VALIDATED = "matches_validated_events"
QUALITY_GATE = "quality_gate"
REALTIME_MATCHES_BATCH = "realtime_matches_batch"
