"""The daily partitions of daily_metrics: UTC days from ANALYTICS_LAKE_START_DATE to yesterday."""

from __future__ import annotations

from datetime import date

import dagster as dg


def daily_partitions(start: date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC")
