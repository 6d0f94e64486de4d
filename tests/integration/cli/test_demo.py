"""`analytics demo` (what `make demo` runs once the stack is up) against the session stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.query.client import QueryClient
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.timeutil import parse_rfc3339, utc_now
from tests.support.consumer_group import wait_caught_up
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.integration

ANALYTICS = str(Path(sys.executable).with_name("analytics"))


def test_the_demo_sends_a_load_and_shows_live_counts_that_match_kafka(
    stack_settings: Settings, ingest_server, query_server, stream_worker
):
    env = {**os.environ, **stack_settings.as_environment(), "COLUMNS": "200"}
    result = subprocess.run(
        [ANALYTICS, "demo", "--events", "300", "--live-seconds", "4", "--no-lakehouse"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "live per-minute counts" in result.stdout
    assert "where to look" in result.stdout
    console_line = next(line for line in result.stdout.splitlines() if line.startswith("The console: "))
    assert f"{stack_settings.query_api_url}/console (sign in with the key in " in console_line
    assert console_line.endswith("demo-project.json)")
    page = httpx.get(f"{stack_settings.query_api_url}/console", timeout=10)
    assert page.status_code == 200
    assert "Project API key" in page.text

    bootstrap = stack_settings.kafka_bootstrap_servers
    wait_caught_up(bootstrap, stack_settings.stream_group, raw_topic("demo"))
    recent = window_start(utc_now(), Granularity.DAY) - timedelta(days=1)
    stored = [
        e for e in read_topic(bootstrap, raw_topic("demo")) if parse_rfc3339(e.value["timestamp"]) >= recent
    ]
    key = json.loads((stack_settings.home / "demo-project.json").read_text())["api_key"]
    with QueryClient(stack_settings.query_api_url, key) as metrics:
        days = metrics.series("all_events", "1d", recent, utc_now() + timedelta(minutes=1))
    assert sum(point.value for point in days) == len(stored), "every event of today and yesterday is counted"


def test_the_demo_exits_non_zero_naming_the_stage_that_failed(
    stack_settings: Settings, ingest_server, query_server, stream_worker
):
    nobody = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, **stack_settings.as_environment(), "ANALYTICS_DAGSTER_URL": nobody, "COLUMNS": "300"}
    result = subprocess.run(
        [ANALYTICS, "demo", "--events", "50", "--live-seconds", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert f"the demo did not complete: lakehouse: Dagster does not answer at {nobody}" in result.stderr
    assert "where to look" in result.stdout, "it still shows what did work"
