"""The streaming worker as a background process of the local stack; healthy when /metrics answers."""

from __future__ import annotations

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.consumer_process import ConsumerProcess


class StreamWorkerProcess(ConsumerProcess):
    name = command = "stream-worker"
    address_setting = "ANALYTICS_STREAM_METRICS_PORT"
    health_metric = "analytics_stream_events"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.stream_host, settings.stream_metrics_port)
