"""Dagster resources over the clients of ``analytics_pipeline`` (which never imports dagster)."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.kafka_io.admin import raw_topic_end_offsets
from analytics_pipeline.settings import Settings


class KafkaResource(dg.ConfigurableResource):
    """The Kafka cluster the ingestion service writes to."""

    bootstrap_servers: str

    def raw_topic_offsets(self) -> dict[str, int]:
        """Per raw topic ``events.{project_id}``, the sum of its partitions' latest offsets."""
        return raw_topic_end_offsets(self.bootstrap_servers)


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The one place where the environment (ANALYTICS_* settings) becomes resources."""
    return {"kafka": KafkaResource(bootstrap_servers=settings.kafka_bootstrap_servers)}
