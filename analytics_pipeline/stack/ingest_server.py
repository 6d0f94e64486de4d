"""The ingestion API under uvicorn, as a background process of the local stack."""

from __future__ import annotations

import os
import sys

import httpx

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackService

APP_FACTORY = "analytics_pipeline.ingest.app:create_app"


class IngestServer(StackService):
    name = "ingest-api"
    start_timeout_s = 30.0

    def __init__(self, settings: Settings) -> None:
        home = settings.home.resolve()
        super().__init__(
            settings.ingest_host,
            settings.ingest_port,
            ManagedProcess(f"ingest-api-{settings.ingest_port}", home / "run", home / "logs"),
        )
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
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            APP_FACTORY,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
        ]
        self.process.spawn(argv, marker=f"--port {self.port}", env=env)
