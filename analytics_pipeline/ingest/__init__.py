"""The ingestion service: HTTP in, Kafka out, 202 only once Kafka has the event."""
