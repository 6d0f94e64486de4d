"""Prometheus figures of a service that may run as several worker processes.

uvicorn's workers each count on their own. With ``PROMETHEUS_MULTIPROC_DIR`` set (the ingestion
server sets it for its workers), prometheus-client keeps every value in a file of that folder and
``/metrics`` answers with all workers' figures together; without it, with this process's."""

from __future__ import annotations

import os

from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def several_workers() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def metrics_response(own: CollectorRegistry) -> Response:
    registry = own
    if several_workers():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
