"""The query service application: ``create_app(settings)`` for uvicorn and for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from analytics_pipeline.query.routes import router
from analytics_pipeline.query.service import QueryService
from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.web.errors import ApiError, AsciiJSONResponse, render_api_error


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = QueryService(settings)
        yield
        await app.state.service.close()

    app = FastAPI(
        title="Analytics query API",
        version="1.0.0",
        description="Metrics per window from the real-time aggregates; each project reads only its own.",
        lifespan=lifespan,
        default_response_class=AsciiJSONResponse,
    )
    app.add_exception_handler(ApiError, render_api_error)
    app.include_router(router)
    return app
