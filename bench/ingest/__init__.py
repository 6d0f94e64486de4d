"""Ingestion benchmarks: the API's paths against an HTTP ceiling and the raw producer, measured in
the same run on the same events (``python -m bench.ingest``)."""
