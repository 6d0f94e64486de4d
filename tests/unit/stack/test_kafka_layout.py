"""Where each node of the local Kafka cluster listens and keeps its state."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.isolated import with_new_ports
from analytics_pipeline.stack.kafka_layout import kafka_nodes

pytestmark = pytest.mark.usefixtures("clean_analytics_env")


def test_one_node_keeps_today_s_name_ports_and_folder(tmp_path: Path) -> None:
    (node,) = kafka_nodes(Settings(home=tmp_path))
    assert (node.name, node.node_id, node.broker_port, node.controller_port) == ("kafka", 1, 9092, 9093)
    assert node.state_dir == tmp_path.resolve() / "kafka" / "9092"
    assert node.voter == "1@127.0.0.1:9093"


def test_three_nodes_each_with_its_ports_and_folder(tmp_path: Path) -> None:
    nodes = kafka_nodes(Settings(home=tmp_path, kafka_brokers=3))
    assert [(n.name, n.broker_port, n.controller_port) for n in nodes] == [
        ("kafka-1", 9092, 9093),
        ("kafka-2", 9094, 9095),
        ("kafka-3", 9096, 9097),
    ]
    cluster_dir = tmp_path.resolve() / "kafka" / "cluster-9092"
    assert [n.state_dir for n in nodes] == [cluster_dir / f"node-{i}" for i in (1, 2, 3)]
    assert [n.voter for n in nodes] == ["1@127.0.0.1:9093", "2@127.0.0.1:9095", "3@127.0.0.1:9097"]


def test_a_private_stack_gets_free_ports_for_every_node(tmp_path: Path) -> None:
    moved = with_new_ports(Settings(home=tmp_path, kafka_brokers=3), "kafka")
    nodes = kafka_nodes(moved)
    ports = [n.broker_port for n in nodes] + [n.controller_port for n in nodes]
    assert len(set(ports)) == 6
    assert not {9092, 9093, 9094, 9095, 9096, 9097} & set(ports)
    assert moved.kafka_bootstrap_servers == ",".join(f"127.0.0.1:{n.broker_port}" for n in nodes)
