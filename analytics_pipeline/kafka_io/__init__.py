"""Kafka: topic layout, administration and the acknowledged producer."""
