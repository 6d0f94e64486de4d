"""Helpers of the query service's tests over a real lake: projects made for the test, events sent
through the ingestion API at chosen moments, one ETL run with its offsets committed, SQL asked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx

from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.timeutil import format_rfc3339
from resources.kafka import KafkaResource
from tests.support.events import new_event
from tests.support.lakehouse_dagster import LakeGraph
from tests.support.projects import ProjectUnderTest


@dataclass
class Loaded:
    shop: ProjectUnderTest
    blog: ProjectUnderTest
    sent: dict[str, list[dict]]  # project -> events accepted
    quarantined_id: str
    graph: LakeGraph
    kafka: KafkaResource


def new_project(settings, store, name: str) -> ProjectUnderTest:
    created = provision_project(settings, store, name, f"{name}-{uuid.uuid4().hex[:10]}")
    return ProjectUnderTest(created.project_id, created.api_key)


def send(api: httpx.Client, project, events: list[dict]) -> None:
    answer = api.post("/v1/batch", json={"events": events}, headers=project.auth)
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["accepted"]) == len(events), answer.json()


def events_at(moments: list[datetime], **fields) -> list[dict]:
    types = ("page_view", "add_to_cart", "signup")
    return [
        new_event(eventType=types[n % 3], userId=f"u{n % 7}", timestamp=format_rfc3339(m), **fields)
        for n, m in enumerate(moments)
    ]


def run_etl(loaded_graph: LakeGraph, kafka: KafkaResource, project_ids: list[str]) -> None:
    """One ETL run over what is pending, then its offsets committed (the commit sensor's job)."""
    ranges = loaded_graph.pending(project_ids, kafka.etl_committed())
    assert loaded_graph.run_etl(ranges).success
    kafka.commit_etl({(r.topic, r.partition): r.end for r in ranges})


def sql(query_api: httpx.Client, project, statement: str) -> httpx.Response:
    return query_api.get("/v1/query", params={"sql": statement}, headers=project.auth)


def rows(query_api: httpx.Client, project, statement: str) -> list[list]:
    answer = sql(query_api, project, statement)
    assert answer.status_code == 200, answer.text
    return answer.json()["rows"]
