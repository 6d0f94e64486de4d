"""The event model: what a client may send and what lands in Kafka."""
