"""The FastAPI application every HTTP service of the pipeline is built as."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline

from analytics_pipeline.events.envelope import FieldError
from analytics_pipeline.web.errors import ApiError, AsciiJSONResponse, render_api_error

# The services export Prometheus figures. FastAPI's native OpenTelemetry, on by default, looks up
# the global providers (reading the environment) on every request: a tenth of the CPU of an event.
WITHOUT_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class Service(Protocol):
    async def close(self) -> None: ...


def build_app(
    *, title: str, description: str, router: APIRouter, service_factory: Callable[[], Service]
) -> FastAPI:
    """The service is built at start-up (``app.state.service``) and closed at shutdown; every error
    answers in the one JSON shape of ``ApiError``. The docs pages (Swagger UI at ``/docs``, ReDoc at
    ``/redoc``) load their scripts from the installed fastapi-offline package, never from a CDN."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service_factory()
        # What start-up built lives as long as the process: out of the collector's sight, a full
        # collection no longer walks it, which took the tail of /v1/events's latency at full
        # load from about 60 ms to 15 ms (bench.ingest).
        gc.freeze()
        yield
        await app.state.service.close()

    app = FastAPIOffline(
        telemetry=WITHOUT_OPENTELEMETRY,
        title=title,
        version="1.0.0",
        description=description,
        lifespan=lifespan,
        default_response_class=AsciiJSONResponse,
    )
    app.add_exception_handler(ApiError, render_api_error)
    app.add_exception_handler(RequestValidationError, render_request_error)
    app.include_router(router)
    app.openapi = lambda: _openapi_without_422(app)  # type: ignore[method-assign]
    return app


async def render_request_error(request: Request, exc: Exception) -> JSONResponse:
    """A parameter FastAPI itself refused answers 400 in the services' shape, not 422."""
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise exc
    errors = [
        FieldError(".".join(str(part) for part in error["loc"][1:]) or "request", str(error["msg"]))
        for error in exc.errors()
    ]
    return await render_api_error(
        request, ApiError(400, "invalid_request", "the request is invalid", errors=errors)
    )


def _openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """FastAPI documents a 422 on every route with parameters; these services answer 400 instead."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
            operation.get("responses", {}).pop("422", None)
        components = schema.get("components", {}).get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema
