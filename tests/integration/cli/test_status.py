"""`analytics status --json` against the session's Kafka, stream worker and S3 server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.projects import ProjectUnderTest
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration

ANALYTICS = str(Path(sys.executable).with_name("analytics"))


def test_status_shows_each_group_s_lag_and_rate_per_partition(
    stream_worker: StreamWorkerProcess, project: ProjectUnderTest, stack_settings: Settings
) -> None:
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    with RawWriter(bootstrap) as writer:
        writer.events(project.project_id, [new_event() for _ in range(90)])
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)

    env = {**os.environ, **stack_settings.as_environment()}
    result = subprocess.run(
        [ANALYTICS, "status", "--json"], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 3, "the session stack runs no Dagster: an alarm says so"
    report = json.loads(result.stdout)
    mine = [p for p in report["partitions"] if p["topic"] == topic]
    stream = [p for p in mine if p["group"] == stack_settings.stream_group]
    etl = [p for p in mine if p["group"] == stack_settings.etl_group]
    assert sum(p["end"] for p in stream) == 90
    assert all(p["lag"] == 0 for p in stream), "the worker caught up"
    assert sum(p["lag"] for p in etl) == 90, "no ETL ran on this topic"
    assert all(p["committed"] is None for p in etl)
    assert sum(p["events_per_s"] for p in stream) == pytest.approx(90 / 60)
    services = {s["name"]: s["healthy"] for s in report["services"]}
    assert services["kafka"] is True
    assert services["stream-worker"] is True
    assert "down: dagster-daemon" in " ".join(report["alarms"])
