"""What the brokers say about the topics: under-replicated partitions (fewer in-sync replicas
than replicas), partitions without a leader, and partitions led by another replica than their
preferred one (an election happened and leadership is not back yet)."""

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
    preferred_leader: int = -1  # the first replica: who leads while nothing failed

    @property
    def kind(self) -> str:
        if self.leader < 0:
            return "no leader"
        return "under-replicated" if self.in_sync < self.replicas else "leader moved"

    @property
    def leader_moved(self) -> bool:
        """Led by another replica than its preferred one: an election happened (a broker died
        or restarted) and leadership has not been rebalanced since. Stateless, unlike the
        election log, and it lasts until the preferred replica leads again."""
        return self.leader >= 0 and self.leader != self.preferred_leader

    def describe(self) -> str:
        text = f"{self.kind}: {self.topic}/{self.partition} ({self.in_sync}/{self.replicas} in sync"
        if self.leader_moved:
            text += f", leader {self.leader} instead of {self.preferred_leader}"
        return text + ")"


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
            preferred = p["replica_nodes"][0] if p["replica_nodes"] else -1
            if isr < replicas or leader < 0 or leader != preferred:
                problems.append(
                    ReplicaProblem(topic["name"], p["partition_index"], replicas, isr, leader, preferred)
                )
    return sorted(problems, key=lambda x: (x.topic, x.partition))


def raw_projects(topics: list[str]) -> list[str]:
    return sorted({p for t in topics if (p := project_of_raw_topic(t))})
