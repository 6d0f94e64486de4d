"""One private stack (`analytics stack up`: Kafka, Redis, the S3 server, the APIs, a stream
worker, the Dagster webserver and daemon) for the tests of this folder, sensors every 5 s.

Starting it costs a minute of the two cores, so the demo and the daemon tests share it: the demo
runs first (project `demo`), the daemon tests make projects of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from analytics_pipeline.settings import Settings
from tests.support.cli import analytics
from tests.support.stack import isolated_settings


@pytest.fixture(scope="package")
def daemon_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = isolated_settings(
        tmp_path_factory.mktemp("daemon-stack"),
        etl_sensor_interval_s=5,
        etl_max_wait_s=5,
        archive_sensor_interval_s=5,
        archive_max_wait_s=5,
    )
    try:
        up = analytics(settings, "stack", "up", timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr
        yield settings
    finally:
        analytics(settings, "stack", "down", timeout=300)
