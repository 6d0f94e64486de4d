"""Dagster sensors: what starts runs (Kafka offsets, archival, restore, late events) and what reports
checks (hot partitions, dead letters)."""
