"""A Spark standalone cluster on loopback, a master and one worker, from the pyspark wheel's own
``bin/spark-class`` (the wheel has no ``sbin/start-*.sh``): what `ANALYTICS_SPARK_MASTER=spark://...`
points at."""

from __future__ import annotations

from pathlib import Path

import httpx

from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import StackService
from analytics_pipeline.stack.spark_server import SPARK_HOME, spark_environment

SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"


def master_state(ui_port: int) -> dict:
    """The master's own JSON view (its web UI's /json/): status, workers, applications."""
    try:
        return httpx.get(f"http://127.0.0.1:{ui_port}/json/", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}


class SparkMaster(StackService):
    name = "spark-master"
    start_timeout_s = 90.0

    def __init__(self, home: Path, port: int, ui_port: int) -> None:
        super().__init__(
            "127.0.0.1", port, ManagedProcess(f"spark-master-{port}", home / "run", home / "logs")
        )
        self.ui_port = ui_port

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        return master_state(self.ui_port).get("status") == "ALIVE"

    def spawn(self) -> None:
        argv = [str(SPARK_CLASS), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--webui-port", str(self.ui_port)]
        self.process.spawn(argv, marker=f"--port {self.port}", env=spark_environment())


class SparkWorker(StackService):
    """One worker of ``master``, healthy once the master counts it alive."""

    name = "spark-worker"
    start_timeout_s = 90.0

    def __init__(  # noqa: PLR0917 - where it runs and what it offers
        self, home: Path, master: SparkMaster, port: int, ui_port: int, cores: int = 2, memory: str = "2g"
    ) -> None:
        super().__init__(
            "127.0.0.1", port, ManagedProcess(f"spark-worker-{port}", home / "run", home / "logs")
        )
        self.master, self.ui_port, self.cores, self.memory = master, ui_port, cores, memory
        self.work_dir = home / "spark-work"

    def healthy(self) -> bool:
        workers = master_state(self.master.ui_port).get("workers", [])
        return any(w.get("state") == "ALIVE" and w.get("port") == self.port for w in workers)

    def spawn(self) -> None:
        argv = [str(SPARK_CLASS), "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1"]
        argv += [
            "--port",
            str(self.port),
            "--webui-port",
            str(self.ui_port),
            "--work-dir",
            str(self.work_dir),
        ]
        argv += ["--cores", str(self.cores), "--memory", self.memory, self.master.url]
        self.process.spawn(argv, marker=f"--port {self.port}", env=spark_environment())
