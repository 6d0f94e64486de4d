"""DagsterReporter against a real dagster-webserver: the streaming worker's runless
materializations of ``realtime_metrics`` land in the instance, and lineage shows raw_events
upstream of them."""

from __future__ import annotations

import os
import socketserver
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.dagster_services import dagster_instance_home, graphql
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.stack.process import ManagedProcess, wait_until
from analytics_pipeline.streaming.dagster_report import DagsterReporter

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
WEBSERVER = Path(sys.executable).parent / "dagster-webserver"
START_TIMEOUT_S = 60.0

LATEST_MATERIALIZATION = """
query {
  assetOrError(assetKey: {path: ["realtime_metrics"]}) {
    __typename
    ... on Asset {
      assetMaterializations(limit: 1) {
        description
        metadataEntries {
          label
          ... on IntMetadataEntry { intValue }
          ... on TextMetadataEntry { text }
        }
      }
    }
  }
}
"""

REALTIME_METRICS_NODE = """
query {
  assetNodes(assetKeys: [{path: ["realtime_metrics"]}]) {
    assetKey { path }
    groupName
    isMaterializable
    dependencyKeys { path }
  }
}
"""


@pytest.fixture(scope="module")
def dagster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("dagster-webserver")
    analytics_home = root / "analytics_home"
    home = dagster_instance_home(Settings(home=analytics_home))  # the instance's state inside it
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANALYTICS_", "DAGSTER_"))}
    env |= {"DAGSTER_HOME": str(home), "ANALYTICS_HOME": str(analytics_home)}
    process = ManagedProcess("dagster-webserver", root / "run", root / "logs")
    process.spawn(
        [str(WEBSERVER), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        marker=f"dagster-webserver -w workspace.yaml -h 127.0.0.1 -p {port}",
        env=env,
        cwd=REPO_ROOT,
    )
    try:

        def answers() -> bool:
            if process.running_pid() is None:
                return True  # exited: stop waiting, the check below says so
            try:
                return httpx.get(f"{url}/server_info", timeout=2.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, START_TIMEOUT_S)
        assert process.running_pid() is not None, f"dagster-webserver exited:\n{process.log_tail()}"
        assert answers(), f"dagster-webserver silent after {START_TIMEOUT_S:g} s:\n{process.log_tail()}"
        yield url
    finally:
        process.stop(timeout_s=15.0)


def latest_materialization(url: str) -> dict[str, Any]:
    asset = graphql(url, LATEST_MATERIALIZATION)["assetOrError"]
    assert asset["__typename"] == "Asset", asset
    (materialization,) = asset["assetMaterializations"]
    entries = {entry["label"]: entry for entry in materialization["metadataEntries"]}
    return {
        "description": materialization["description"],
        **{
            label: entry["intValue"] if "intValue" in entry else entry.get("text")
            for label, entry in entries.items()
        },
    }


def test_a_report_becomes_a_materialization_of_realtime_metrics(dagster_url):
    worker = f"w1-{uuid.uuid4().hex[:6]}"  # a mark of this report, whatever ran before it
    reporter = DagsterReporter(dagster_url, interval_s=0, worker_id=worker)
    reporter.note(applied=5, duplicates=1, dead_lettered=0, projects={"p1"})
    reporter.maybe_report(lag=3)
    reporter.close()

    assert reporter.reports_sent == 1
    latest = latest_materialization(dagster_url)
    assert latest["worker"] == worker
    assert latest["events_applied"] == 5
    assert latest["duplicates_skipped"] == 1
    assert latest["dead_lettered"] == 0
    assert latest["projects"] == "p1"
    assert latest["consumer_lag"] == 3
    assert worker in latest["description"]


def test_lineage_shows_raw_events_upstream_of_realtime_metrics(dagster_url):
    (node,) = graphql(dagster_url, REALTIME_METRICS_NODE)["assetNodes"]
    assert node["groupName"] == "streams"
    assert node["isMaterializable"] is False, "external: only the worker's reports materialize it"
    assert {"path": ["raw_events"]} in node["dependencyKeys"]


class _ForwardToDagster(BaseHTTPRequestHandler):
    """Stands on the port the reporter was given, once the 'webserver' there comes back."""

    target: str = ""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        upstream = httpx.post(
            self.target + self.path, content=body, headers={"content-type": "application/json"}, timeout=10.0
        )
        self.send_response(upstream.status_code)
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_dead_webserver_costs_nothing_and_the_totals_wait_for_the_next_report(dagster_url):
    port = free_port()  # nothing listens there yet
    worker = f"w2-{uuid.uuid4().hex[:6]}"
    reporter = DagsterReporter(f"http://127.0.0.1:{port}", interval_s=0, worker_id=worker)
    reporter.note(applied=5, duplicates=1, dead_lettered=0, projects={"p1"})
    reporter.maybe_report(lag=3)  # the send fails in the background thread: no exception here
    reporter.close()
    assert reporter.reports_sent == 0

    handler = type("Forward", (_ForwardToDagster,), {"target": dagster_url})
    with socketserver.TCPServer(("127.0.0.1", port), handler) as proxy:
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            reporter.note(applied=2, duplicates=0, dead_lettered=1, projects={"p2"})
            reporter.maybe_report(lag=4)
            reporter.close()
        finally:
            proxy.shutdown()

    assert reporter.reports_sent == 1
    latest = latest_materialization(dagster_url)
    assert latest["worker"] == worker
    assert latest["events_applied"] == 7, "the failed report's events are carried into the next one"
    assert latest["duplicates_skipped"] == 1
    assert latest["dead_lettered"] == 1
    assert latest["projects"] == "p1, p2"
    assert latest["consumer_lag"] == 4, "the lag is the current one, not summed"
