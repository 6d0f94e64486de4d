"""The streaming worker as a background process of the local stack; healthy when /metrics answers."""

from __future__ import annotations

import os
import sys

import httpx

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackService


class StreamWorkerProcess(StackService):
    name = "stream-worker"
    address_setting = "ANALYTICS_STREAM_METRICS_PORT"
    start_timeout_s = 30.0

    def __init__(self, settings: Settings) -> None:
        home = settings.home.resolve()
        super().__init__(
            settings.stream_host,
            settings.stream_metrics_port,
            ManagedProcess(f"stream-worker-{settings.stream_metrics_port}", home / "run", home / "logs"),
        )
        self.settings = settings

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"http://{self.host}:{self.port}/metrics", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and "analytics_stream_events" in response.text

    def spawn(self) -> None:
        env = {**os.environ, **self.settings.as_environment()}
        argv = [sys.executable, "-m", "analytics_pipeline.cli.main", "stream-worker"]
        argv += ["--metrics-port", str(self.port)]
        self.process.spawn(argv, marker=f"stream-worker --metrics-port {self.port}", env=env)
