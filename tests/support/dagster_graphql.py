"""Driving a running Dagster webserver the way an operator's tools do: launch runs, read their
times, stop a sensor (GraphQL, over HTTP)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from analytics_pipeline.dagster_api import graphql

REPOSITORIES = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }
"""

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) { ... on Run { runId status startTime endTime } }
}
"""

STEP = """
query Steps($id: ID!) {
  runOrError(runId: $id) { ... on Run { runId stepStats { stepKey status startTime endTime } } }
}
"""

RUN_EVENTS = """
query RunEvents($id: ID!) {
  logsForRun(runId: $id) { ... on EventConnection { events { __typename } } }
}
"""

SENSOR = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { __typename ... on Sensor { id } }
}
"""

STOP_SENSOR = """
mutation Stop($id: String!) {
  stopSensor(id: $id) { __typename ... on StopSensorMutationResult { instigationState { status } } }
}
"""

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass(frozen=True)
class RunTimes:
    run_id: str
    status: str
    start: float | None
    end: float | None


def repository(url: str) -> dict[str, str]:
    """The selector fields of the one code location's repository (workspace.yaml)."""
    (node,) = graphql(url, REPOSITORIES)["repositoriesOrError"]["nodes"]
    return {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"]}


def launch_run(url: str, job: str, run_config: dict[str, Any], tags: dict[str, str] | None = None) -> str:
    params = {
        "selector": {**repository(url), "jobName": job},
        "runConfigData": run_config,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
    }
    answer = graphql(url, LAUNCH_RUN, {"params": params})["launchRun"]
    assert answer["__typename"] == "LaunchRunSuccess", answer
    return answer["run"]["runId"]


def run_times(url: str, run_id: str) -> RunTimes:
    run = graphql(url, RUN, {"id": run_id})["runOrError"]
    return RunTimes(run["runId"], run["status"], run["startTime"], run["endTime"])


def step_times(url: str, run_id: str, step_key: str) -> RunTimes:
    """When the run's step started and ended (its last attempt), and how it ended."""
    run = graphql(url, STEP, {"id": run_id})["runOrError"]
    (step,) = [s for s in run["stepStats"] if s["stepKey"] == step_key]
    return RunTimes(run["runId"], step["status"], step["startTime"], step["endTime"])


def run_event_kinds(url: str, run_id: str) -> list[str]:
    """The GraphQL type of each event of the run's log, in order (ExecutionStepUpForRetryEvent, ...)."""
    return [event["__typename"] for event in graphql(url, RUN_EVENTS, {"id": run_id})["logsForRun"]["events"]]


def wait_finished(url: str, run_ids: list[str], timeout_s: float) -> list[RunTimes]:
    deadline = time.monotonic() + timeout_s
    while True:
        runs = [run_times(url, run_id) for run_id in run_ids]
        if all(r.status in FINISHED for r in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(2)


def stop_sensor(url: str, name: str) -> None:
    selector = {**repository(url), "sensorName": name}
    sensor = graphql(url, SENSOR, {"selector": selector})["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    stopped = graphql(url, STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
    assert stopped["__typename"] == "StopSensorMutationResult", stopped
