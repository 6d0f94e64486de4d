"""The streaming worker: raw topics -> exact real-time aggregates in Redis, processed events, DLQ."""
