"""Helpers shared by the test suites (ports, Kafka reading, stack settings)."""
