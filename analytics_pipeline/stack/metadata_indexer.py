"""The metadata indexer as a background process of the local stack; healthy when /metrics answers."""

from __future__ import annotations

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.consumer_process import ConsumerProcess


class MetadataIndexerProcess(ConsumerProcess):
    name = command = "metadata-indexer"
    address_setting = "ANALYTICS_INDEX_METRICS_PORT"
    health_metric = "analytics_index_records"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.index_host, settings.index_metrics_port)
