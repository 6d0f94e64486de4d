"""The long-lived Spark that lake runs share: a Spark Connect server from the pyspark wheel's own
``bin/spark-submit`` and the jars Maven fetched, configured as a run's own Spark would be.

`analytics stack up` starts it. A run that finds it gone (killed, out of memory) starts it again
before connecting, under a file lock so that two runs never start two (``ensure_spark_server``);
the run that lost it mid-step fails that step, and the step's retry policy runs it again. Only
while the stack wants it: `analytics stack down` withdraws that, so a run still going when the
stack stops fails instead of starting a server nobody will stop.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pyspark
from pyspark.sql.connect.proto import base_pb2, base_pb2_grpc

from analytics_pipeline.lakehouse.s3a import is_s3a
from analytics_pipeline.lakehouse.spark import lake_spark_conf
from analytics_pipeline.objectstore.endpoint import S3Endpoint, s3_endpoint
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import java_in
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import (
    INFRA_DIR,
    ServiceStatus,
    StackError,
    StackService,
    split_host_port,
)

SPARK_HOME = Path(pyspark.__file__).parent
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
DEFAULT_PORT = 15002
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
LOG_CONFIG = INFRA_DIR / "spark" / "log4j2.properties"
# The health check asks in one session of its own, reused, so checking leaves no sessions behind.
HEALTH_SESSION = str(uuid.uuid5(uuid.NAMESPACE_URL, "analytics-pipeline/spark-connect-health"))


def spark_environment(java_home: Path | None = None) -> dict[str, str]:
    """What Spark's scripts and Python workers need: loopback, and the venv's Python (the UDFs
    import ``analytics_pipeline``)."""
    environment = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }
    if java_home is not None:
        environment["JAVA_HOME"] = str(java_home)
    return environment


@dataclass(frozen=True)
class SparkServerSpec:
    """What the server runs with; a run rebuilds it from its resource to start a dead server."""

    url: str  # sc://host:port
    master: str
    memory: str
    jar_root: Path
    home: Path
    s3: S3Endpoint | None = None  # S3A against this endpoint (the lake is on S3)
    java_home: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> SparkServerSpec:
        return cls(
            url=settings.spark_connect_url,
            master=settings.spark_master,
            memory=settings.spark_server_memory,
            jar_root=settings.jar_root,
            home=settings.home.resolve(),
            s3=s3_endpoint(settings) if is_s3a(settings.lake_root) else None,
            java_home=settings.java_home,
        )


class SparkConnectServer(StackService):
    name = "spark-connect"
    address_setting = "ANALYTICS_SPARK_CONNECT_URL"
    start_timeout_s = 180.0  # a cold JVM and the Delta jars, on 2 busy cores

    def __init__(self, spec: SparkServerSpec) -> None:
        host, port = split_host_port(spec.url, DEFAULT_PORT)
        process = ManagedProcess(f"spark-connect-{port}", spec.home / "run", spec.home / "logs")
        super().__init__(host, port, process)
        self.spec = spec
        self.properties_file = spec.home / "spark-connect" / f"{port}.properties"

    def healthy(self) -> bool:
        """It answers Spark Connect and runs with Delta (not merely: a port is open)."""
        operation = base_pb2.ConfigRequest.Operation(
            get_option=base_pb2.ConfigRequest.GetOption(keys=["spark.sql.extensions"])
        )
        request = base_pb2.ConfigRequest(
            session_id=HEALTH_SESSION,
            user_context=base_pb2.UserContext(user_id="analytics-health"),
            operation=operation,
        )
        with grpc.insecure_channel(self.address) as channel:
            try:
                answer = base_pb2_grpc.SparkConnectServiceStub(channel).Config(request, timeout=5)
            except grpc.RpcError:
                return False
        return any(DELTA_EXTENSION in (pair.value or "") for pair in answer.pairs)

    def spawn(self) -> None:
        spec = self.spec
        java_in(spec.java_home)  # a missing or old java is refused here, in one line
        conf = lake_spark_conf(spec.memory, spec.jar_root, s3=spec.s3) | {
            "spark.connect.grpc.binding.address": self.host,
            "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile={LOG_CONFIG}",
        }
        if cores := local_cores(spec.master):
            conf["spark.default.parallelism"] = str(cores)  # what a run's minPartitions is sized by
        self._write_properties(conf)
        argv = [
            str(SPARK_HOME / "bin" / "spark-submit"),
            "--master", spec.master,
            "--driver-memory", spec.memory,
            "--properties-file", str(self.properties_file),
            # on the command line, so that it marks this server's process (ManagedProcess)
            "--conf", f"spark.connect.grpc.binding.port={self.port}",
            "--class", SERVER_CLASS,
            "spark-internal",
        ]  # fmt: skip
        self.process.spawn(
            argv, marker=f"spark.connect.grpc.binding.port={self.port}", env=spark_environment(spec.java_home)
        )

    @property
    def wanted_file(self) -> Path:
        """Present from `stack up` to `stack down`; a crash leaves it, so a run starts it again."""
        return self.process.run_dir / f"{self.process.name}.wanted"

    def start_if_down(self) -> ServiceStatus | None:
        """`stack up` wants it, whether it starts it now or finds it running."""
        status = super().start_if_down()
        self.wanted_file.parent.mkdir(parents=True, exist_ok=True)
        self.wanted_file.touch()
        return status

    def stop(self) -> bool:
        with self.start_lock():
            self.wanted_file.unlink(missing_ok=True)
            return super().stop()

    @contextmanager
    def start_lock(self) -> Iterator[None]:
        """One starter or stopper at a time, across processes (the stack's CLI and every run)."""
        lock_file = self.process.run_dir / f"{self.process.name}.lock"
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with lock_file.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write_properties(self, conf: dict[str, str]) -> None:
        """Only its owner may read it: it may hold the S3 secret."""
        self.properties_file.parent.mkdir(parents=True, exist_ok=True)
        self.properties_file.unlink(missing_ok=True)
        descriptor = os.open(self.properties_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as properties:
            properties.writelines(f"{key} {_escaped(value)}\n" for key, value in sorted(conf.items()))


def ensure_spark_server(spec: SparkServerSpec) -> None:
    """Start the server again when it is local, the stack started it, and it no longer answers."""
    server = SparkConnectServer(spec)
    if not server.local or server.healthy():
        return
    with server.start_lock():
        if not server.wanted_file.exists():
            raise StackError(
                f"the Spark Connect server at {server.address} is down and `analytics stack up` did not "
                "start it (or `analytics stack down` stopped it): run `analytics stack up`"
            )
        server.ensure_running()


def local_cores(master: str) -> int | None:
    """The cores of a ``local[N]`` / ``local[*]`` master, else None."""
    match = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master)
    if match is None:
        return None
    count = match.group(1)
    if count is None:
        return 1
    return (os.cpu_count() or 1) if count == "*" else int(count)


def _escaped(value: str) -> str:
    """A Java properties value: Java reads a backslash as an escape, so each is doubled."""
    return value.replace("\\", "\\\\")
