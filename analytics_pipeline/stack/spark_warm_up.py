"""`analytics stack up` warms a Spark Connect server it has just started: one tiny batch through
the ETL's code into a scratch lake (``lakehouse.warm_up``), in a process of its own that runs
while Dagster starts, so the stack's first real batch does not pay the server's cold start.

A server on a cluster master is not warmed (``applies_to``). A failed warm-up fails nothing: the
stack still works, only its first batch is slower, and the line `stack up` prints says so and
where the log is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from analytics_pipeline.stack.spark_server import SparkConnectServer, local_cores, spark_environment

WARM_UP_MODULE = "analytics_pipeline.lakehouse.warm_up"
TIMEOUT_S = SparkConnectServer.start_timeout_s  # a warm-up is a cold start moved earlier


class SparkWarmUp:
    @staticmethod
    def applies_to(server: SparkConnectServer) -> bool:
        """Only with a local master: the scratch lake is a folder of this machine, which a
        cluster's executors would not share."""
        return local_cores(server.spec.master) is not None

    def __init__(self, server: SparkConnectServer) -> None:
        self.server = server
        self.scratch = server.spec.home / "spark-connect" / f"warm-up-{server.port}"
        self.log_file: Path = server.process.log_dir / f"spark-warm-up-{server.port}.log"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> SparkWarmUp:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("w") as log:
            argv = [sys.executable, "-m", WARM_UP_MODULE, self.server.spec.url, str(self.scratch)]
            self._process = subprocess.Popen(  # noqa: S603 - our own module, with our own settings
                argv,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=spark_environment(self.server.spec.java_home),
            )
        return self

    def outcome(self) -> str:
        """One line for `stack up`'s output, once the warm-up has ended (or been stopped)."""
        if self._process is None:
            raise RuntimeError("the warm-up was not started")
        try:
            out, _ = self._process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            return f"spark-connect: the warm-up ran over {TIMEOUT_S:g} s, stopped (log {self.log_file})"
        if self._process.returncode != 0:
            return (
                f"spark-connect: the warm-up failed (exit {self._process.returncode}; log {self.log_file}); "
                "the first batch will pay the server's cold start"
            )
        done = json.loads(out.strip().splitlines()[-1])
        return (
            f"spark-connect: warmed up in {done['seconds']:.1f} s ({done['records']} records through the "
            f"ETL into a scratch lake: {done['validated']} validated, {done['quarantined']} quarantined)"
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Kill it if it still runs, and remove what it may have left of the scratch lake."""
        if self._process is not None and self.running:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)
