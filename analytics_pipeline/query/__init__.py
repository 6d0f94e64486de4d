"""The query service: metrics from the real-time aggregates (and, later, the lakehouse)."""
