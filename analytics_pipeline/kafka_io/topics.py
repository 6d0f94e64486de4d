"""Topic names and their settings, as the design fixes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics_pipeline.settings import Settings

DAY_MS = 24 * 3600 * 1000


def raw_topic(project_id: str) -> str:
    return f"events.{project_id}"


# events.{project_id} only: events.processed.* and events.dlq.* hold a second dot.
RAW_TOPIC_PATTERN = r"^events\.(?P<project_id>[a-z0-9][a-z0-9-]*)$"
_RAW_TOPIC = re.compile(RAW_TOPIC_PATTERN)


def project_of_raw_topic(topic: str) -> str | None:
    """The project id if ``topic`` is a raw topic (``events.{id}``, not processed or dead letters)."""
    match = _RAW_TOPIC.fullmatch(topic)
    return match["project_id"] if match else None


def processed_topic(project_id: str) -> str:
    return f"events.processed.{project_id}"


def dead_letter_topic(project_id: str) -> str:
    return f"events.dlq.{project_id}"


def metrics_topic(metric: str) -> str:
    return f"metrics.{metric}"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]


def project_topics(project_id: str, settings: Settings) -> list[TopicSpec]:
    """The three topics every project owns: raw (7 d), processed (30 d), dead letters (30 d)."""
    partitions = settings.kafka_topic_partitions or 1
    replication = settings.kafka_replication_factor or 1
    common = {
        "compression.type": "snappy",
        "min.insync.replicas": str(settings.kafka_min_insync_replicas),
        "cleanup.policy": "delete",
    }
    return [
        TopicSpec(
            raw_topic(project_id), partitions, replication, {**common, "retention.ms": str(7 * DAY_MS)}
        ),
        TopicSpec(
            processed_topic(project_id), partitions, replication, {**common, "retention.ms": str(30 * DAY_MS)}
        ),
        # Poison events are few; a handful of partitions is plenty at any scale.
        TopicSpec(
            dead_letter_topic(project_id),
            min(partitions, 3),
            replication,
            {**common, "retention.ms": str(30 * DAY_MS)},
        ),
    ]


def metrics_topic_spec(metric: str, settings: Settings) -> TopicSpec:
    """``metrics.{metric}``: window snapshots of every project, 10 partitions, 24 h, gzip (the design's)."""
    return TopicSpec(
        metrics_topic(metric),
        10,
        settings.kafka_replication_factor or 1,
        {
            "compression.type": "gzip",
            "min.insync.replicas": str(settings.kafka_min_insync_replicas),
            "cleanup.policy": "delete",
            "retention.ms": str(DAY_MS),
        },
    )
