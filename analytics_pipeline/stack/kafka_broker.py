"""A single-node Apache Kafka broker in KRaft mode, run from the jars Maven fetched."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from string import Template

from analytics_pipeline.kafka_io.admin import broker_answers
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.jars import ensure_jars
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import INFRA_DIR, StackError, StackService, port_open, split_host_port

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"


def java_executable(settings: Settings) -> str:
    if settings.java_home is not None:
        return str(settings.java_home / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise StackError("Java 17+ is needed for the Kafka broker: apt-get install openjdk-17-jre-headless")
    return java


class KafkaBroker(StackService):
    name = "kafka"
    start_timeout_s = 90.0

    def __init__(self, settings: Settings) -> None:
        host, port = split_host_port(settings.kafka_bootstrap_servers.split(",")[0], 9092)
        home = settings.home.resolve()
        super().__init__(host, port, ManagedProcess(f"kafka-{port}", home / "run", home / "logs"))
        self.settings = settings
        self.state_dir = home / "kafka" / f"{port}"
        self.config_file = self.state_dir / "server.properties"
        self.data_dir = self.state_dir / "data"

    def healthy(self) -> bool:
        return port_open(self.host, self.port) and broker_answers(self.address, timeout_s=3.0)

    def spawn(self) -> None:
        classpath = str(ensure_jars(self.settings.jar_root, "kafka-broker") / "*")
        java = java_executable(self.settings)
        self._render_config()
        self._format_storage(java, classpath)
        heap = self.settings.kafka_broker_heap
        argv = [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={INFRA_DIR / 'kafka' / 'log4j2.properties'}",
            "-cp",
            classpath,
            MAIN_CLASS,
            str(self.config_file),
        ]
        self.process.spawn(argv, marker=str(self.config_file), env=os.environ.copy())

    def _render_config(self) -> None:
        template = Template((INFRA_DIR / "kafka" / "server.properties.template").read_text())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            template.substitute(
                broker_port=self.port,
                controller_port=self.settings.kafka_controller_port,
                log_dir=self.data_dir,
            )
        )

    def _format_storage(self, java: str, classpath: str) -> None:
        """KRaft needs its log directory formatted once, with a cluster id."""
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = _kafka_uuid()
        command = [
            java,
            "-cp",
            classpath,
            STORAGE_TOOL,
            "format",
            f"--cluster-id={cluster_id}",  # "=": a base64 id may start with "-"
            f"--config={self.config_file}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def _kafka_uuid() -> str:
    """A cluster id as Kafka writes them: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
