"""What the brokers say about the topics: under-replicated partitions (fewer in-sync replicas
than replicas) and partitions without a leader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics_pipeline.kafka_io.admin import admin_client
from analytics_pipeline.kafka_io.topics import project_of_raw_topic


@dataclass(frozen=True)
class ReplicaProblem:
    topic: str
    partition: int
    replicas: int
    in_sync: int
    leader: int  # -1: none

    @property
    def kind(self) -> str:
        return "no leader" if self.leader < 0 else "under-replicated"


def describe_topics(bootstrap_servers: str, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Every topic's partitions (leader, leader epoch, replicas, in-sync replicas), one request."""
    with admin_client(bootstrap_servers, timeout_s) as admin:
        return admin.describe_topics()


def replica_problems(bootstrap_servers: str, timeout_s: float = 10.0) -> list[ReplicaProblem]:
    return replica_problems_in(describe_topics(bootstrap_servers, timeout_s))


def replica_problems_in(topics: list[dict[str, Any]]) -> list[ReplicaProblem]:
    problems = []
    for topic in topics:
        for p in topic["partitions"]:
            replicas, isr, leader = len(p["replica_nodes"]), len(p["isr_nodes"]), p["leader_id"]
            if isr < replicas or leader < 0:
                problems.append(ReplicaProblem(topic["name"], p["partition_index"], replicas, isr, leader))
    return sorted(problems, key=lambda x: (x.topic, x.partition))


def raw_projects(topics: list[str]) -> list[str]:
    return sorted({p for t in topics if (p := project_of_raw_topic(t))})
