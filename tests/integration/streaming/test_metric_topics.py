"""What a client can make the cluster create: new event types add keys, never topics."""

from __future__ import annotations

import uuid

import pytest

from analytics_pipeline.kafka_io.admin import admin_client
from analytics_pipeline.kafka_io.topics import metrics_topic, raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic
from tests.support.projects import ProjectUnderTest
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration

NEW_TYPES = 30


def metric_topics(bootstrap: str) -> set[str]:
    with admin_client(bootstrap) as admin:
        return {name for name in admin.list_topics() if name.startswith("metrics.")}


def test_many_new_event_types_create_no_topic_beyond_the_shared_one(
    stream_worker: StreamWorkerProcess, project: ProjectUnderTest, stack_settings: Settings
) -> None:
    bootstrap = stack_settings.kafka_bootstrap_servers
    types = [f"type_{uuid.uuid4().hex[:8]}" for _ in range(NEW_TYPES)]
    before = metric_topics(bootstrap)
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, [new_event(eventType=t) for t in types])
        wait_caught_up(bootstrap, stack_settings.stream_group, raw_topic(project.project_id))

    created = metric_topics(bootstrap) - before
    assert created <= {
        metrics_topic("event_types"),
        metrics_topic("all_events"),
        metrics_topic("active_users"),
    }
    assert not any(metrics_topic(t) in metric_topics(bootstrap) for t in types)
    snapshots = [
        r.value
        for r in read_topic(bootstrap, metrics_topic("event_types"))
        if r.value["projectId"] == project.project_id
    ]
    assert {s["metric"] for s in snapshots} == set(types), "every type's windows are on the shared topic"
    assert all(s["count"] == 1 for s in snapshots)
