"""Asset keys of the graph, in one place so sensors, checks and jobs name them the same way."""

from __future__ import annotations

import dagster as dg

BRONZE_EVENTS = dg.AssetKey("bronze_events")
VALIDATED_EVENTS = dg.AssetKey("validated_events")
QUARANTINED_EVENTS = dg.AssetKey("quarantined_events")
DAILY_METRICS = dg.AssetKey("daily_metrics")
