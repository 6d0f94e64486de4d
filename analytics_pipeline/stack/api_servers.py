"""The HTTP APIs under uvicorn, as background processes of the local stack."""

from __future__ import annotations

import os
import shutil
import sys

import httpx

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackService
from analytics_pipeline.web.prometheus import MULTIPROCESS_DIR

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
        env = {**os.environ, **self.settings.as_environment(), **self.worker_environment()}
        argv = [sys.executable, "-m", "uvicorn", "--factory", self.app_factory]
        argv += ["--host", self.host, "--port", str(self.port), "--no-access-log"]
        argv += ["--timeout-graceful-shutdown", "10", *self.worker_options()]
        self.process.spawn(argv, marker=f"{self.app_factory} --host {self.host} --port {self.port}", env=env)

    def worker_options(self) -> list[str]:
        return []

    def worker_environment(self) -> dict[str, str]:
        return {}


class IngestServer(ApiServer):
    name = "ingest-api"
    address_setting = "ANALYTICS_INGEST_PORT"
    app_factory = INGEST_APP

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.ingest_host, settings.ingest_port)

    def worker_options(self) -> list[str]:
        return ingest_worker_options(self.settings)

    def worker_environment(self) -> dict[str, str]:
        """Several workers count in files of a folder of their own, emptied at each start (the
        figures of a previous run would add up with theirs)."""
        if self.settings.ingest_workers == 1:
            return {}
        folder = self.settings.home.resolve() / "run" / f"{self.name}-{self.port}-metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return {MULTIPROCESS_DIR: str(folder)}


def ingest_worker_options(settings: Settings) -> list[str]:
    """uvicorn's flags for the ingestion API's worker processes (``ANALYTICS_INGEST_WORKERS``)."""
    return ["--workers", str(settings.ingest_workers)] if settings.ingest_workers > 1 else []


class QueryServer(ApiServer):
    name = "query-api"
    address_setting = "ANALYTICS_QUERY_PORT"
    app_factory = QUERY_APP

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.query_host, settings.query_port)
