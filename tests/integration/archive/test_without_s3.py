"""The S3 server stopped: the ingestion API still answers 202 and the stream worker still counts.
Only archival waits for it."""

from __future__ import annotations

import httpx
import pytest

from analytics_pipeline.kafka_io.topics import processed_topic, raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic
from tests.support.projects import ProjectUnderTest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ingestion_and_streaming_go_on_while_s3_is_down(  # noqa: PLR0917 - fixtures
    s3_server: S3Server,
    ingest_server: IngestServer,
    stream_worker: StreamWorkerProcess,
    api: httpx.Client,
    project: ProjectUnderTest,
    stack_settings: Settings,
) -> None:
    events = [new_event() for _ in range(40)]
    s3_server.stop()
    try:
        assert not s3_server.healthy()
        answers = [api.post("/v1/events", json=event, headers=project.auth) for event in events]
        assert [a.status_code for a in answers] == [202] * len(events)
        bootstrap = stack_settings.kafka_bootstrap_servers
        wait_caught_up(bootstrap, stack_settings.stream_group, raw_topic(project.project_id))
        processed = {record.key for record in read_topic(bootstrap, processed_topic(project.project_id))}
        assert processed == {event["eventId"] for event in events}, "every event counted"
    finally:
        s3_server.ensure_running()
