"""The query service application: ``create_app(settings)`` for uvicorn and for tests."""

from __future__ import annotations

from fastapi import FastAPI

from analytics_pipeline.console.routes import router as console_router
from analytics_pipeline.query.routes import router
from analytics_pipeline.query.service import QueryService
from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.web.app import build_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = build_app(
        title="Analytics query API",
        description="Metrics per window from the real-time aggregates; each project reads only its own.",
        router=router,
        service_factory=lambda: QueryService(settings),
    )
    app.include_router(console_router)  # the web console at /console, on this API
    return app
