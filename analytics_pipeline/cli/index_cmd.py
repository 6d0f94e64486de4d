"""``analytics metadata-indexer``: index every accepted event's metadata for the lookup API."""

from __future__ import annotations

from typing import Annotated

import typer

from analytics_pipeline.cli.consumer_run import configure_logging, run_supervised, run_until_stopped
from analytics_pipeline.indexing.indexer import MetadataIndexer
from analytics_pipeline.settings import get_settings


def metadata_indexer(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics here; default: ANALYTICS_INDEX_METRICS_PORT (8003).")
    ] = None,
    supervised: Annotated[bool, typer.Option(help="Restart the indexer when it crashes.")] = True,
) -> None:
    """Run the metadata-index consumer group until SIGTERM or Ctrl-C."""
    settings = get_settings()
    if metrics_port is not None:
        settings = settings.model_copy(update={"index_metrics_port": metrics_port})
    configure_logging()
    if supervised:
        run_supervised("metadata-indexer", settings.index_metrics_port)
    indexer = MetadataIndexer(settings)
    run_until_stopped(indexer.run, indexer.metrics.registry, settings.index_host, settings.index_metrics_port)
