"""``analytics stream-worker``: consume every raw topic into the real-time aggregates."""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Annotated

import typer
from prometheus_client import start_http_server

from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.streaming.supervisor import supervise
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("kafka.coordinator").setLevel(logging.INFO)  # joins, assignments, revocations
    if supervised:
        argv = [sys.executable, "-m", "analytics_pipeline.cli.main", "stream-worker"]
        argv += ["--metrics-port", str(settings.stream_metrics_port), "--no-supervised"]
        raise typer.Exit(supervise(argv))
    run_worker(settings)


def run_worker(settings: Settings) -> None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid>: every stack to the log
    worker = StreamWorker(settings)
    start_http_server(settings.stream_metrics_port, settings.stream_host, registry=worker.metrics.registry)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: finishing the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker.run(stop)
