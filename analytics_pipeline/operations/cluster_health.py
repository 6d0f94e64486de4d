"""What the brokers say about the raw and dead-letter topics: under-replicated partitions (fewer
in-sync replicas than replicas), partitions without a leader, and dead letters per project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics_pipeline.kafka_io.admin import admin_client, topic_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic, project_of_raw_topic


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


def dead_letters(bootstrap_servers: str, project_ids: list[str], timeout_s: float = 10.0) -> dict[str, int]:
    """Dead letters each project's topic holds now (written minus expired)."""
    counts = {}
    for project in project_ids:
        held = sum(
            o.messages for o in topic_offsets(bootstrap_servers, dead_letter_topic(project), timeout_s)
        )
        if held:
            counts[project] = held
    return counts


def raw_projects(topics: list[str]) -> list[str]:
    return sorted({p for t in topics if (p := project_of_raw_topic(t))})
