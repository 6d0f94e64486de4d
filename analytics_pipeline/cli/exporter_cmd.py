"""``analytics exporter``: the figures of ``analytics status`` for Prometheus to scrape."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from analytics_pipeline.cli.consumer_run import configure_logging, run_supervised, run_until_stopped
from analytics_pipeline.operations.exporter import Exporter
from analytics_pipeline.settings import get_settings


def exporter(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics here; default: ANALYTICS_EXPORTER_PORT (8004).")
    ] = None,
    supervised: Annotated[
        bool, typer.Option(help="Restart the exporter when it crashes or its watchdog ends it.")
    ] = True,
) -> None:
    """Serve lag, offsets and rates per consumer group and partition, dead letters per project,
    under-replicated partitions and leader elections on /metrics until SIGTERM or Ctrl-C."""
    settings = get_settings()
    if metrics_port is not None:
        settings = settings.model_copy(update={"exporter_port": metrics_port})
    configure_logging()
    # While Kafka is down every poll would log kafka-python's connection errors; the exporter
    # says it once, and analytics_kafka_up says it to Prometheus.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    if supervised:
        run_supervised("exporter", settings.exporter_port)
    service = Exporter(settings)
    run_until_stopped(service.run, service.registry, settings.exporter_host, settings.exporter_port)
