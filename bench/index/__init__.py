"""Metadata indexer throughput: how fast the ``metadata-index`` group writes accepted events into
PostgreSQL, beside the ceiling of reading the same records bare from Kafka, in the same run."""
