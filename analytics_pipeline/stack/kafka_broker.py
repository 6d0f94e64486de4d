"""A node of the local Apache Kafka cluster in KRaft mode, run from the jars Maven fetched."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from string import Template

from analytics_pipeline.kafka_io.replicas import live_broker_ids
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.jars import ensure_jars
from analytics_pipeline.stack.kafka_layout import kafka_nodes
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import (
    INFRA_DIR,
    ServiceStatus,
    StackError,
    StackService,
    ensure_running_together,
    port_open,
    stop_together,
)

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"


MIN_JAVA = 17  # Kafka 4 brokers (and Spark 4) need it
# Failure detection of a node that died (see the template): fenced within 4 s, well inside the
# ingestion API's 5 s produce timeout, heartbeats often enough that a GC pause is not a death.
HEARTBEAT_MS = 500
SESSION_TIMEOUT_MS = 4000


def java_executable(settings: Settings) -> str:
    """The java to run the broker with; a missing or too old one is refused in one line."""
    return java_in(settings.java_home)


def java_in(java_home: Path | None) -> str:
    """The java of ``java_home`` (ANALYTICS_JAVA_HOME), else the one on PATH; refused in one line
    when missing or older than Kafka 4 and Spark 4 need."""
    if java_home is not None:
        java = str(java_home / "bin" / "java")
        fix = f"set ANALYTICS_JAVA_HOME to a JDK {MIN_JAVA}+"
    else:
        java = shutil.which("java") or ""
        fix = "apt-get install openjdk-17-jre-headless (or set ANALYTICS_JAVA_HOME to a JDK 17+)"
    major = java_major_version(java) if java else None
    if major is None:
        raise StackError(f"no working java {'at ' + java if java else 'on PATH'}: {fix}")
    if major < MIN_JAVA:
        raise StackError(f"{java} is Java {major}; Kafka and Spark need Java {MIN_JAVA}+: {fix}")
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
    """One node of the local cluster (the only one by default): a broker and a KRaft controller.

    A node of three cannot become healthy alone (its quorum needs a second voter): start the
    nodes together with ``KafkaCluster``, as ``analytics stack up`` does.
    """

    address_setting = "ANALYTICS_KAFKA_BOOTSTRAP_SERVERS"
    start_timeout_s = 90.0

    def __init__(self, settings: Settings, node_id: int = 1) -> None:
        nodes = kafka_nodes(settings)
        self.layout = nodes[node_id - 1]
        self.quorum = nodes
        home = settings.home.resolve()
        process = ManagedProcess(f"kafka-{self.layout.broker_port}", home / "run", home / "logs")
        super().__init__(self.layout.host, self.layout.broker_port, process)
        self.name = self.layout.name
        self.settings = settings
        self.state_dir = self.layout.state_dir
        self.config_file = self.state_dir / "server.properties"
        self.data_dir = self.state_dir / "data"

    def healthy(self) -> bool:
        """Registered with the quorum and not fenced: this node serves as a broker."""
        if not port_open(self.host, self.port):
            return False
        return self.layout.node_id in live_broker_ids(self.address, timeout_s=3.0)

    def spawn(self) -> None:
        controller = self.layout.controller_port
        if port_open(self.host, controller):
            raise StackError(
                f"port {controller} (the Kafka controller of {self.name}) is taken by another program: "
                "stop it, or set ANALYTICS_KAFKA_CONTROLLER_PORT to free ports"
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
        replicas = len(self.quorum)
        self.config_file.write_text(
            template.substitute(
                node_id=self.layout.node_id,
                quorum_voters=",".join(node.voter for node in self.quorum),
                broker_port=self.port,
                controller_port=self.layout.controller_port,
                log_dir=self.data_dir,
                replicas=replicas,
                min_isr=min(self.settings.kafka_min_insync_replicas or 1, replicas),
                heartbeat_ms=HEARTBEAT_MS,
                session_timeout_ms=SESSION_TIMEOUT_MS,
            )
        )

    def _format_storage(self, java: str, classpath: str) -> None:
        """KRaft needs its log directory formatted once, with the cluster's id (the same on every
        node of a cluster: kept beside the nodes' folders)."""
        if (self.data_dir / "meta.properties").exists():
            return
        command = [
            java,
            "-cp",
            classpath,
            STORAGE_TOOL,
            "format",
            f"--cluster-id={self._cluster_id()}",  # "=": a base64 id may start with "-"
            f"--config={self.config_file}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def _cluster_id(self) -> str:
        if not self.layout.in_cluster:
            return _kafka_uuid()
        id_file = self.state_dir.parent / "cluster.id"
        if not id_file.exists():
            id_file.parent.mkdir(parents=True, exist_ok=True)
            id_file.write_text(_kafka_uuid())
        return id_file.read_text().strip()


def _kafka_uuid() -> str:
    """A cluster id as Kafka writes them: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class KafkaCluster:
    """Every node of the local cluster (one, or three), started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.nodes = [KafkaBroker(settings, node.node_id) for node in kafka_nodes(settings)]

    def node(self, node_id: int) -> KafkaBroker:
        return self.nodes[node_id - 1]

    def ensure_running(self) -> list[ServiceStatus]:
        return ensure_running_together(self.nodes)

    def stop(self) -> list[tuple[str, bool]]:
        return stop_together(self.nodes)
