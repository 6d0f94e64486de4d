"""A consumer process of the local stack (a stream worker, the metadata indexer, the exporter): started as
``analytics <command> --metrics-port P``, healthy when its /metrics answers with its own metric."""

from __future__ import annotations

import os
import sys

import httpx

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackService


class ConsumerProcess(StackService):
    command: str  # the `analytics` subcommand
    health_metric: str  # a metric only this process exports
    start_timeout_s = 30.0

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        home = settings.home.resolve()
        super().__init__(host, port, ManagedProcess(f"{self.name}-{port}", home / "run", home / "logs"))
        self.settings = settings

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"http://{self.host}:{self.port}/metrics", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and self.health_metric in response.text

    def spawn(self) -> None:
        env = {**os.environ, **self.settings.as_environment()}
        argv = [
            sys.executable,
            "-m",
            "analytics_pipeline.cli.main",
            self.command,
            "--metrics-port",
            str(self.port),
        ]
        self.process.spawn(argv, marker=f"{self.command} --metrics-port {self.port}", env=env)
