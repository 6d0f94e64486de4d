"""`make up` / `make down` / `make status` semantics: idempotent, and down stops only its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import stack
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.stack.services import Ownership, StackError
from tests.support.stack import isolated_settings

pytestmark = [pytest.mark.slow, pytest.mark.spark]

ANALYTICS = str(Path(sys.executable).with_name("analytics"))


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.as_environment()}
    return subprocess.run(
        [ANALYTICS, "stack", *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


@pytest.fixture
def foreign_redis(tmp_path: Path):
    """A Redis somebody else started: no pid file of ours."""
    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)


def test_up_is_idempotent_and_down_stops_only_what_up_started(tmp_path, foreign_redis):
    settings = isolated_settings(tmp_path, redis_url=f"redis://127.0.0.1:{foreign_redis}/0")
    try:
        first = cli(settings, "up")
        assert first.returncode == 0, first.stderr
        said = " ".join(first.stdout.split())  # rich wraps lines at the terminal's width
        assert "spark-connect: warmed up in" in said, first.stdout
        assert "(2 records through the ETL into a scratch lake: 1 validated, 1 quarantined)" in said
        assert not list((settings.home / "spark-connect").glob("warm-up-*")), "the scratch lake is gone"
        statuses = {s.name: s for s in stack.status(settings)}
        assert statuses["redis"].ownership is Ownership.OTHER, "an answering Redis is used, not replaced"
        assert statuses["kafka"].ownership is Ownership.MANAGED
        for name in ("s3", "ingest-api", "query-api", "stream-worker", "exporter", "spark-connect"):
            assert statuses[name].ownership is Ownership.MANAGED, name
        assert all(s.healthy for s in statuses.values())
        pids = {name: s.pid for name, s in statuses.items()}

        second = cli(settings, "up")
        assert second.returncode == 0
        assert "warmed up" not in second.stdout, "a server already running is warm"
        assert {s.name: s.pid for s in stack.status(settings)} == pids, "nothing restarted"
        assert cli(settings, "status").returncode == 0
    finally:
        down = cli(settings, "down")
    assert "kafka: stopped" in down.stdout
    for name in ("s3", "ingest-api", "query-api", "stream-worker", "exporter", "spark-connect"):
        assert f"{name}: stopped" in down.stdout
    assert "redis: not started by this stack" in down.stdout
    assert redis.Redis(port=foreign_redis).ping(), "the foreign Redis still runs"
    after = {s.name: s for s in stack.status(settings)}
    assert after["kafka"].ownership is Ownership.DOWN
    assert after["s3"].ownership is Ownership.DOWN
    assert after["ingest-api"].ownership is Ownership.DOWN
    assert after["stream-worker"].ownership is Ownership.DOWN
    assert after["exporter"].ownership is Ownership.DOWN
    assert after["spark-connect"].ownership is Ownership.DOWN
    assert cli(settings, "status").returncode == 3, "status says when something is not healthy"
    assert cli(settings, "down").returncode == 0, "down twice is fine"


def test_an_external_address_is_never_started(tmp_path):
    settings = isolated_settings(tmp_path, redis_url="redis://10.255.255.1:6379/0", redis_timeout_s=0.2)
    redis_service = stack.stack_services(settings)[0]
    assert not redis_service.local
    with pytest.raises(StackError, match="external"):
        redis_service.ensure_running()
    assert redis_service.process.running_pid() is None


def test_a_stale_pid_file_is_ignored(tmp_path):
    settings = isolated_settings(tmp_path)
    redis_service = stack.stack_services(settings)[0]
    redis_service.process.run_dir.mkdir(parents=True)
    # a pid that exists but is not ours (this test process) must never be signalled
    redis_service.process.pid_file.write_text(
        f'{{"pid": {os.getpid()}, "marker": "redis-server 127.0.0.1:1"}}'
    )
    assert redis_service.process.running_pid() is None
    assert not redis_service.process.pid_file.exists()
    assert redis_service.stop() is False
