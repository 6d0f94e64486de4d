"""What the long-running commands (stream-worker, metadata-indexer, exporter) share: logging, their own
supervision, /metrics, and a stop on SIGTERM or Ctrl-C that lets the current batch finish."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

import typer
from prometheus_client import CollectorRegistry, start_http_server

from analytics_pipeline.streaming.supervisor import supervise


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("kafka.coordinator").setLevel(logging.INFO)  # joins, assignments, revocations


def run_supervised(command: str, metrics_port: int) -> None:
    """This command again in a child process with ``--no-supervised``, restarted when it dies."""
    argv = [sys.executable, "-m", "analytics_pipeline.cli.main", command]
    argv += ["--metrics-port", str(metrics_port), "--no-supervised"]
    raise typer.Exit(supervise(argv))


def run_until_stopped(
    run: Callable[[threading.Event], None], registry: CollectorRegistry, host: str, port: int
) -> None:
    """Serve /metrics, then ``run(stop)`` until SIGTERM or SIGINT sets ``stop``."""
    start_http_server(port, host, registry=registry)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: finishing the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run(stop)
