"""Which brokers are live and how each partition is replicated: leaders, in-sync replicas, and
the partitions short of their replicas, asked of whichever broker answers."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kafka import KafkaAdminClient
from kafka import errors as Errors

from analytics_pipeline.kafka_io.admin import admin_client

T = TypeVar("T")


def broker_answers(bootstrap_servers: str, timeout_s: float = 2.0) -> bool:
    """True if a broker answers a DescribeCluster request within the timeout."""
    return bool(live_broker_ids(bootstrap_servers, timeout_s))


def live_broker_ids(bootstrap_servers: str, timeout_s: float = 2.0) -> set[int]:
    """The node ids of the brokers the cluster serves with (registered, not fenced); empty when
    no broker answers within the timeout."""
    try:
        with admin_client(bootstrap_servers, timeout_s=timeout_s) as admin:
            brokers = admin.describe_cluster().get("brokers") or []
    except Exception:  # noqa: BLE001 - anything short of an answer means none
        return set()
    return {b["broker_id"] for b in brokers if not b.get("is_fenced", False)}


@dataclass(frozen=True)
class PartitionReplicas:
    """Who holds a partition, as the cluster's metadata says now."""

    topic: str
    partition: int
    leader: int  # -1: none
    replicas: tuple[int, ...]  # the first is the preferred leader
    in_sync: tuple[int, ...]

    @property
    def preferred_leader(self) -> int:
        return self.replicas[0] if self.replicas else -1


@dataclass(frozen=True)
class ReplicaView:
    """The partitions' replicas, and which brokers answer: when two of three nodes are gone the
    KRaft quorum is gone too, and the metadata (ISR included) stays as it was before they died."""

    partitions: list[PartitionReplicas]
    reachable: frozenset[int]  # registered, not fenced, and accepting connections


def partition_replicas(
    bootstrap_servers: str, topics: list[str] | None = None, timeout_s: float = 10.0
) -> list[PartitionReplicas]:
    """Leader, replicas and in-sync replicas of every partition of ``topics`` (None: all topics)."""
    with admin_client(bootstrap_servers, timeout_s) as admin:
        return _partitions_of(admin, topics)


def replica_view(
    bootstrap_servers: str, topics: list[str] | None = None, timeout_s: float = 10.0
) -> ReplicaView:
    """``partition_replicas`` and the brokers that accept a connection now."""
    with admin_client(bootstrap_servers, timeout_s) as admin:
        partitions = _partitions_of(admin, topics)
        brokers = _on_any_broker(admin.describe_cluster).get("brokers") or []
    reachable = frozenset(
        b["broker_id"]
        for b in brokers
        if not b.get("is_fenced", False) and _accepts_connections(b["host"], b["port"], timeout_s)
    )
    return ReplicaView(partitions, reachable)


def _partitions_of(admin: KafkaAdminClient, topics: list[str] | None) -> list[PartitionReplicas]:
    described = _on_any_broker(lambda: admin.describe_topics(topics))
    return sorted(
        (
            PartitionReplicas(
                topic["name"],
                p["partition_index"],
                p["leader_id"],
                tuple(p["replica_nodes"]),
                tuple(p["isr_nodes"]),
            )
            for topic in described
            if topic.get("error_code", 0) == 0
            for p in topic["partitions"]
        ),
        key=lambda r: (r.topic, r.partition),
    )


def _on_any_broker(request: Callable[[], T], attempts: int = 3) -> T:
    """kafka-python sends an admin request to a random known broker, dead or not; a broker that
    refused is backed off, so asking again goes to another."""
    for _ in range(attempts - 1):
        try:
            return request()
        except (Errors.KafkaConnectionError, Errors.NodeNotReadyError):
            continue
    return request()


def _accepts_connections(host: str, port: int, timeout_s: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=min(timeout_s, 0.5)):
            return True
    except OSError:
        return False
