"""The HTTP APIs under uvicorn, as background processes of the local stack."""

from __future__ import annotations

import os
import sys

import httpx

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackService

INGEST_APP = "analytics_pipeline.ingest.app:create_app"
QUERY_APP = "analytics_pipeline.query.app:create_app"


class ApiServer(StackService):
    """One FastAPI app factory served by uvicorn; healthy when ``/healthz`` answers 200."""

    app_factory: str
    start_timeout_s = 30.0

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        home = settings.home.resolve()
        super().__init__(host, port, ManagedProcess(f"{self.name}-{port}", home / "run", home / "logs"))
        self.settings = settings

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def spawn(self) -> None:
        env = {**os.environ, **self.settings.as_environment()}
        argv = [sys.executable, "-m", "uvicorn", "--factory", self.app_factory]
        argv += ["--host", self.host, "--port", str(self.port), "--no-access-log"]
        argv += ["--timeout-graceful-shutdown", "10"]
        self.process.spawn(argv, marker=f"{self.app_factory} --host {self.host} --port {self.port}", env=env)


class IngestServer(ApiServer):
    name = "ingest-api"
    address_setting = "ANALYTICS_INGEST_PORT"
    app_factory = INGEST_APP

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.ingest_host, settings.ingest_port)


class QueryServer(ApiServer):
    name = "query-api"
    address_setting = "ANALYTICS_QUERY_PORT"
    app_factory = QUERY_APP

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.query_host, settings.query_port)
