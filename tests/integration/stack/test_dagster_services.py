"""The stack's dagster-webserver and dagster-daemon on a private home: the code location loads
with the stack's settings, every daemon beats, and stopping them leaves no process behind.

Only the two Dagster services run: the definitions load without Kafka (the sensor's ticks just
report it unreachable).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.dagster_services import (
    DagsterDaemon,
    DagsterWebserver,
    daemon_statuses,
    graphql,
)
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.stack.services import Ownership
from tests.support.stack import isolated_settings, with_new_ports

pytestmark = pytest.mark.integration

WORKSPACE = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            repositories { allTopLevelResourceDetails { name configuredValues { key value } } }
          }
        }
      }
    }
  }
}
"""


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Stops at once: the daemon's shutdown waits for a Kafka-less sensor tick (~25 s)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def process_group_members(pgid: int) -> list[int]:
    """Pids whose process group is ``pgid`` (a service and the code servers it spawned)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Never port 3000 (a shared stack's UI may be there): a private free port and home.
    return with_new_ports(isolated_settings(tmp_path), "dagster")


def test_webserver_and_daemon_start_load_the_location_beat_and_stop(settings: Settings) -> None:
    webserver, daemon = DagsterWebserver(settings), DagsterDaemon(settings)
    try:
        # One after the other, as `stack up` does: two processes creating a fresh SQLite
        # storage at once can race in its schema migration.
        started = [webserver.ensure_running(), daemon.ensure_running()]
        assert [s.ownership for s in started] == [Ownership.STARTED, Ownership.STARTED]
        pids = [s.pid for s in started]
        assert all(pids)

        url = settings.dagster_url
        assert httpx.get(f"{url}/server_info", timeout=5.0).status_code == 200
        workspace = graphql(url, WORKSPACE)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        (entry,) = workspace["locationEntries"]
        location = entry["locationOrLoadError"]
        assert entry["loadStatus"] == "LOADED"
        assert location["__typename"] == "RepositoryLocation", location
        (repository,) = location["repositories"]
        resources = {r["name"]: r["configuredValues"] for r in repository["allTopLevelResourceDetails"]}
        kafka = {v["key"]: json.loads(v["value"]) for v in resources["kafka"]}
        assert kafka["bootstrap_servers"] == settings.kafka_bootstrap_servers, "the private stack's Kafka"

        def sensor_and_scheduler_healthy() -> bool:  # instance.daemonHealth.allDaemonStatuses
            healthy = daemon_statuses(url)
            return healthy.get("SENSOR") is True and healthy.get("SCHEDULER") is True

        assert wait_until(sensor_and_scheduler_healthy, 60.0, interval_s=1.0), daemon.process.log_tail()
        assert daemon.process.running_pid() == pids[1], "the daemon is alive"
        assert daemon.status().healthy
    finally:
        stopped = in_parallel(daemon.stop, webserver.stop)

    assert stopped == [True, True]
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()
        # Its code servers got the same signal; they may take a moment longer to exit.
        assert wait_until(lambda pid=pid: not process_group_members(pid), 10.0), process_group_members(pid)
    assert webserver.status().ownership is Ownership.DOWN
    assert daemon.status().ownership is Ownership.DOWN
    assert not webserver.process.pid_file.exists()
    assert not daemon.process.pid_file.exists()
