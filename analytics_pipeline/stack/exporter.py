"""The metrics exporter as a background process of the local stack; healthy when its /metrics
answers with ``analytics_kafka_up`` (whatever its value: Kafka down is the exporter's news)."""

from __future__ import annotations

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.consumer_process import ConsumerProcess


class ExporterProcess(ConsumerProcess):
    name = command = "exporter"
    address_setting = "ANALYTICS_EXPORTER_PORT"
    health_metric = "analytics_kafka_up"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.exporter_host, settings.exporter_port)
