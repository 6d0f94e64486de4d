"""Where each node of the local Kafka cluster listens and keeps its state.

One node (``ANALYTICS_KAFKA_BROKERS=1``) is today's single broker: the first bootstrap address,
the controller port, state in ``{home}/kafka/{port}``. Three nodes are each a broker and a KRaft
controller (a 3-voter quorum): node *i* takes the *i*-th bootstrap address and the *i*-th
controller port, and keeps its state in ``{home}/kafka/cluster-{first port}/node-{i}``, so a
one-node log directory is never mistaken for a cluster member (or the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.services import split_host_port


@dataclass(frozen=True)
class KafkaNodeLayout:
    node_id: int  # KRaft node.id, 1-based
    host: str
    broker_port: int
    controller_port: int
    state_dir: Path  # server.properties and data/
    in_cluster: bool  # one of several nodes

    @property
    def name(self) -> str:
        """The service name: ``kafka`` alone, ``kafka-1`` .. ``kafka-3`` in a cluster."""
        return f"kafka-{self.node_id}" if self.in_cluster else "kafka"

    @property
    def voter(self) -> str:
        """Its entry in controller.quorum.voters (a local node listens on 127.0.0.1, as its
        listeners in the template)."""
        return f"{self.node_id}@127.0.0.1:{self.controller_port}"


def kafka_nodes(settings: Settings) -> list[KafkaNodeLayout]:
    """Every local node, in node-id order."""
    count = settings.kafka_brokers
    addresses = [split_host_port(a.strip(), 9092) for a in settings.kafka_bootstrap_servers.split(",")]
    controllers = [int(p) for p in settings.kafka_controller_port.split(",")]
    kafka_home = settings.home.resolve() / "kafka"
    if count == 1:
        (host, port), controller = addresses[0], controllers[0]
        return [KafkaNodeLayout(1, host, port, controller, kafka_home / str(port), in_cluster=False)]
    cluster_dir = kafka_home / f"cluster-{addresses[0][1]}"
    return [
        KafkaNodeLayout(i + 1, host, port, controller, cluster_dir / f"node-{i + 1}", in_cluster=True)
        for i, ((host, port), controller) in enumerate(zip(addresses, controllers, strict=True))
    ]
