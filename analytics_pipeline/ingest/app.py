"""The ingestion API application: ``create_app(settings)`` for uvicorn and for tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from analytics_pipeline.ingest.routes import router
from analytics_pipeline.ingest.service import IngestService
from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.web.app import build_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = build_app(
        title="Analytics ingestion API",
        description="Accepts product-analytics events; answers 202 only once Kafka acknowledged them.",
        router=router,
        service_factory=lambda: IngestService(settings),
    )
    app.middleware("http")(_count_requests)
    return app


async def _count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    service: IngestService | None = getattr(request.app.state, "service", None)
    if service is not None:
        route = getattr(request.scope.get("route"), "path", "unmatched")
        service.metrics.requests.labels(route=route, status=str(response.status_code)).inc()
    return response
