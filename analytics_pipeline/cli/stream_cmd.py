"""``analytics stream-worker``: consume every raw topic into the real-time aggregates."""

from __future__ import annotations

import faulthandler
import signal
from typing import Annotated

import typer

from analytics_pipeline.cli.consumer_run import configure_logging, run_supervised, run_until_stopped
from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.streaming.worker import StreamWorker


def stream_worker(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics here; default: ANALYTICS_STREAM_METRICS_PORT (8002).")
    ] = None,
    supervised: Annotated[
        bool, typer.Option(help="Restart the worker when it crashes or its watchdog ends it.")
    ] = True,
) -> None:
    """Run one worker of group stream-processing until SIGTERM or Ctrl-C; start several to share
    the partitions (each with its own --metrics-port)."""
    settings = get_settings()
    if metrics_port is not None:
        settings = settings.model_copy(update={"stream_metrics_port": metrics_port})
    configure_logging()
    if supervised:
        run_supervised("stream-worker", settings.stream_metrics_port)
    run_worker(settings)


def run_worker(settings: Settings) -> None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid>: every stack to the log
    worker = StreamWorker(settings)
    run_until_stopped(worker.run, worker.metrics.registry, settings.stream_host, settings.stream_metrics_port)
