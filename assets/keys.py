"""Asset keys of the graph, in one place so sensors, checks and jobs name them the same way."""

from __future__ import annotations

import dagster as dg

BRONZE_EVENTS = dg.AssetKey("bronze_events")
VALIDATED_EVENTS = dg.AssetKey("validated_events")
QUARANTINED_EVENTS = dg.AssetKey("quarantined_events")
DAILY_METRICS = dg.AssetKey("daily_metrics")
EVENTS_ARCHIVE = dg.AssetKey("events_archive")

# daily_metrics' metadata entry naming the (project, day) pairs its quality gate held back
# ({day: {project: rows too many}}); late_events_sensor reads it to compute them again.
HELD_METADATA = "held"

# dagster.yaml: one run of this pool at a time, so two writers never meet on a Delta table.
LAKE_POOL = "lake"

# raw_events' checks that hot_partition_sensor reports (WARN while a partition is out of line).
HOT_PARTITIONS_CHECK = "hot_partitions"
PRODUCE_SKEW_CHECK = "produce_skew"
HOT_CHECK_NAMES = (HOT_PARTITIONS_CHECK, PRODUCE_SKEW_CHECK)

# raw_events' check that dead_letter_sensor reports (WARN while dead letters wait for a redrive).
DEAD_LETTERS_CHECK = "dead_letters_redriven"

# raw_events' checks their sensors report; a scheduled look of its own would overwrite them.
SENSOR_CHECK_NAMES = (*HOT_CHECK_NAMES, DEAD_LETTERS_CHECK)
