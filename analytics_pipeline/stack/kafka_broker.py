"""A single-node Apache Kafka broker in KRaft mode, run from the jars Maven fetched."""

from __future__ import annotations

import base64
import os
import re
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


MIN_JAVA = 17  # Kafka 4 brokers (and Spark 4) need it


def java_executable(settings: Settings) -> str:
    """The java to run the broker with; a missing or too old one is refused in one line."""
    if settings.java_home is not None:
        java = str(settings.java_home / "bin" / "java")
        fix = f"set ANALYTICS_JAVA_HOME to a JDK {MIN_JAVA}+"
    else:
        java = shutil.which("java") or ""
        fix = "apt-get install openjdk-17-jre-headless (or set ANALYTICS_JAVA_HOME to a JDK 17+)"
    major = java_major_version(java) if java else None
    if major is None:
        raise StackError(f"no working java {'at ' + java if java else 'on PATH'}: {fix}")
    if major < MIN_JAVA:
        raise StackError(f"{java} is Java {major}; the Kafka broker needs Java {MIN_JAVA}+: {fix}")
    return java


def java_major_version(java: str) -> int | None:
    """The major version ``java -version`` reports (8 for "1.8.0_402"), or None if it does not run."""
    try:
        result = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except OSError:
        return None
    match = re.search(r'version "(?:1\.)?(\d+)', result.stderr + result.stdout)
    return int(match.group(1)) if match else None


class KafkaBroker(StackService):
    name = "kafka"
    address_setting = "ANALYTICS_KAFKA_BOOTSTRAP_SERVERS"
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
        controller = self.settings.kafka_controller_port
        if port_open(self.host, controller):
            raise StackError(
                f"port {controller} (the Kafka controller) is taken by another program: stop it, "
                "or set ANALYTICS_KAFKA_CONTROLLER_PORT to a free port"
            )
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
