"""Dagster assets: the streams (external, observed), the lakehouse tables, daily_metrics, the archive."""
