"""The HTTP ceiling: a bare FastAPI endpoint under uvicorn that parses the event's JSON and
answers 202, run with the ingestion API's own uvicorn flags. Nothing on this path can be faster."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import ApiServer
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.web.app import WITHOUT_OPENTELEMETRY


def create_app() -> FastAPI:
    app = FastAPI(telemetry=WITHOUT_OPENTELEMETRY)  # configured as the services are

    @app.post("/v1/events", status_code=202)
    async def accept(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"eventId": body["eventId"]}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


class CeilingServer(ApiServer):
    name = "http-ceiling"
    app_factory = "bench.ingest.ceiling:create_app"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "127.0.0.1", free_port())
