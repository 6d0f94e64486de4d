"""The Dagster webserver's GraphQL API, for the CLI and the demo (no dagster import).

What people do in the UI (launch a backfill, watch it, read what an asset's last
materializations said) is also scriptable; this module is that script's vocabulary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx


class DagsterApiError(RuntimeError):
    """The webserver refused a request, or answered with GraphQL errors; the message says which."""


def graphql(
    dagster_url: str, query: str, variables: dict[str, Any] | None = None, timeout_s: float = 10.0
) -> dict[str, Any]:
    """The ``data`` of a query to the webserver's GraphQL API; errors in the answer raise."""
    body: dict[str, Any] = {"query": query, "variables": variables or {}}
    response = httpx.post(f"{dagster_url.rstrip('/')}/graphql", json=body, timeout=timeout_s)
    response.raise_for_status()
    payload = response.json()
    if payload.get("errors"):
        raise DagsterApiError(f"GraphQL errors from {dagster_url}: {payload['errors']}")
    return payload["data"]


# A backfill run tagged so re-judges every event by its type's newest schema instead of the
# version it was accepted under (the daily_metrics asset reads it; `lakehouse backfill --newest-schemas`).
JUDGE_TAG, NEWEST_SCHEMAS = "analytics/judge", "newest-schemas"

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
    ... on UnauthorizedError { message }
  }
}
"""

BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id status numPartitions
      assetBackfillData {
        assetBackfillStatuses {
          ... on AssetPartitionsStatusCounts {
            assetKey { path }
            numPartitionsTargeted numPartitionsInProgress numPartitionsMaterialized numPartitionsFailed
          }
        }
      }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}
"""

MATERIALIZATIONS = """
query Materializations($path: [String!]!, $limit: Int!) {
  assetNodeOrError(assetKey: {path: $path}) {
    __typename
    ... on AssetNode {
      assetMaterializations(limit: $limit) {
        partition runId timestamp
        metadataEntries {
          label
          ... on IntMetadataEntry { intValue }
          ... on FloatMetadataEntry { floatValue }
          ... on TextMetadataEntry { text }
          ... on JsonMetadataEntry { jsonString }
          ... on PathMetadataEntry { path }
        }
      }
    }
  }
}
"""

FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


@dataclass(frozen=True)
class BackfillProgress:
    backfill_id: str
    status: str
    targeted: int
    in_progress: int
    materialized: int
    failed: int

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        return self.finished and self.failed == 0 and self.materialized == self.targeted


@dataclass(frozen=True)
class Materialization:
    partition: str | None
    run_id: str
    timestamp_ms: int
    metadata: dict[str, Any]


def launch_asset_backfill(
    dagster_url: str, asset: str, partitions: list[str], title: str = "", tags: dict[str, str] | None = None
) -> str:
    """A backfill of ``asset`` over ``partitions``, run by the daemon; returns its id. ``tags``
    reach every run of it."""
    params = {
        "assetSelection": [{"path": [asset]}],
        "partitionNames": partitions,
        "fromFailure": False,
        "title": title or f"{asset} {partitions[0]}..{partitions[-1]}",
        "tags": [{"key": key, "value": value} for key, value in (tags or {}).items()],
    }
    answer = graphql(dagster_url, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if answer["__typename"] != "LaunchBackfillSuccess":
        raise DagsterApiError(f"backfill refused ({answer['__typename']}): {answer.get('message', answer)}")
    return answer["backfillId"]


def backfill_progress(dagster_url: str, backfill_id: str) -> BackfillProgress:
    answer = graphql(dagster_url, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
    if answer["__typename"] != "PartitionBackfill":
        raise DagsterApiError(f"backfill {backfill_id}: {answer.get('message', answer['__typename'])}")
    counts = [
        s
        for s in (answer.get("assetBackfillData") or {}).get("assetBackfillStatuses", [])
        if "numPartitionsTargeted" in s
    ]
    return BackfillProgress(
        backfill_id=backfill_id,
        status=answer["status"],
        targeted=sum(s["numPartitionsTargeted"] for s in counts) or (answer.get("numPartitions") or 0),
        in_progress=sum(s["numPartitionsInProgress"] for s in counts),
        materialized=sum(s["numPartitionsMaterialized"] for s in counts),
        failed=sum(s["numPartitionsFailed"] for s in counts),
    )


def latest_materializations(dagster_url: str, asset: str, limit: int = 20) -> list[Materialization]:
    """The newest materializations of ``asset`` first, with their metadata as plain values."""
    answer = graphql(dagster_url, MATERIALIZATIONS, {"path": [asset], "limit": limit})["assetNodeOrError"]
    if answer["__typename"] != "AssetNode":
        raise DagsterApiError(f"no asset {asset} in the code location")
    return [
        Materialization(
            partition=m["partition"],
            run_id=m["runId"],
            timestamp_ms=int(m["timestamp"]),
            metadata={e["label"]: _entry_value(e) for e in m["metadataEntries"]},
        )
        for m in answer["assetMaterializations"]
    ]


def _entry_value(entry: dict[str, Any]) -> Any:
    for field in ("intValue", "floatValue", "text", "path"):
        if field in entry:
            return entry[field]
    if "jsonString" in entry:
        return json.loads(entry["jsonString"])
    return None


WORKSPACE_JOBS = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { repositories { name jobs { name } } }
        }
      }
    }
  }
}
"""

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName } }
    ... on Error { message }
  }
}
"""

RUN_FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass(frozen=True)
class RunState:
    run_id: str
    status: str
    job_name: str

    @property
    def finished(self) -> bool:
        return self.status in RUN_FINISHED


def job_selector(dagster_url: str, job: str) -> dict[str, str]:
    """Where the webserver's workspace defines ``job``: its location and repository."""
    answer = graphql(dagster_url, WORKSPACE_JOBS)["workspaceOrError"]
    for entry in answer.get("locationEntries", []):
        for repository in (entry.get("locationOrLoadError") or {}).get("repositories", []):
            if any(j["name"] == job for j in repository["jobs"]):
                return {
                    "repositoryLocationName": entry["name"],
                    "repositoryName": repository["name"],
                    "jobName": job,
                }
    raise DagsterApiError(f"no job {job} in the workspace at {dagster_url}")


def launch_job_run(
    dagster_url: str, job: str, run_config: dict[str, Any], tags: dict[str, str] | None = None
) -> str:
    """A run of ``job`` queued through the webserver (the daemon starts it); returns its id."""
    params = {
        "selector": job_selector(dagster_url, job),
        "runConfigData": run_config,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
    }
    answer = graphql(dagster_url, LAUNCH_RUN, {"params": params})["launchRun"]
    if answer["__typename"] != "LaunchRunSuccess":
        errors = "; ".join(e["message"] for e in answer.get("errors", [])) or answer.get("message", "")
        raise DagsterApiError(f"run of {job} refused ({answer['__typename']}): {errors}")
    return answer["run"]["runId"]


def runs(
    dagster_url: str, *, run_ids: list[str] | None = None, tags: dict[str, str] | None = None
) -> list[RunState]:
    """Runs by id or by tags, newest first."""
    run_filter: dict[str, Any] = {}
    if run_ids is not None:
        run_filter["runIds"] = run_ids
    if tags:
        run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    answer = graphql(dagster_url, RUNS, {"filter": run_filter})["runsOrError"]
    if answer["__typename"] != "Runs":
        raise DagsterApiError(f"runs: {answer.get('message', answer['__typename'])}")
    return [RunState(r["runId"], r["status"], r["jobName"]) for r in answer["results"]]
