"""The FastAPI application every HTTP service of the pipeline is built as."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI

from analytics_pipeline.web.errors import ApiError, AsciiJSONResponse, render_api_error


class Service(Protocol):
    async def close(self) -> None: ...


def build_app(
    *, title: str, description: str, router: APIRouter, service_factory: Callable[[], Service]
) -> FastAPI:
    """The service is built at start-up (``app.state.service``) and closed at shutdown; every error
    answers in the one JSON shape of ``ApiError``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service_factory()
        yield
        await app.state.service.close()

    app = FastAPI(
        title=title,
        version="1.0.0",
        description=description,
        lifespan=lifespan,
        default_response_class=AsciiJSONResponse,
    )
    app.add_exception_handler(ApiError, render_api_error)
    app.include_router(router)
    return app
