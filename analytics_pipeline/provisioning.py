"""Creating a project end to end: metadata row, Kafka topics, first API key."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics_pipeline.kafka_io.admin import ensure_topics
from analytics_pipeline.kafka_io.topics import project_topics
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.settings import Settings


@dataclass(frozen=True)
class ProvisionedProject:
    project_id: str
    name: str
    api_key: str
    topics_created: list[str] = field(default_factory=list)
    topics_error: str | None = None


def provision_project(
    settings: Settings, store: MetadataStore, name: str, project_id: str | None = None
) -> ProvisionedProject:
    """Create the project and its key; create its topics if Kafka answers.

    A project is usable without its topics for a while: the ingestion service creates missing
    topics before the first event is produced, so Kafka being away here is a warning.
    """
    project = store.create_project(name, project_id)
    api_key = store.create_api_key(project.project_id, label="created with the project")
    try:
        created = ensure_topics(
            settings.kafka_bootstrap_servers, project_topics(project.project_id, settings)
        )
    except Exception as exc:  # noqa: BLE001 - reported to the operator, fixed on first use
        return ProvisionedProject(
            project.project_id, name, api_key, topics_error=str(exc) or type(exc).__name__
        )
    return ProvisionedProject(project.project_id, name, api_key, topics_created=created)
