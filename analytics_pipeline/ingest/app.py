"""The ingestion API application: ``create_app(settings)`` for uvicorn and for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from analytics_pipeline.ingest.routes import router
from analytics_pipeline.ingest.service import IngestService
from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.web.errors import ApiError, AsciiJSONResponse, render_api_error


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = IngestService(settings)
        yield
        await app.state.service.close()

    app = FastAPI(
        title="Analytics ingestion API",
        version="1.0.0",
        description="Accepts product-analytics events; answers 202 only once Kafka acknowledged them.",
        lifespan=lifespan,
        default_response_class=AsciiJSONResponse,
    )
    app.add_exception_handler(ApiError, render_api_error)
    app.middleware("http")(_count_requests)
    app.include_router(router)
    return app


async def _count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    service: IngestService | None = getattr(request.app.state, "service", None)
    if service is not None:
        route = getattr(request.scope.get("route"), "path", "unmatched")
        service.metrics.requests.labels(route=route, status=str(response.status_code)).inc()
    return response
