"""GET /v1/metrics/{metric} over HTTP: keys, isolation between projects, errors, zero-filling."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.realtime.windows import Granularity, format_window, window_start
from analytics_pipeline.stack.api_servers import QueryServer
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.raw_events import RawWriter
from tests.support.stack import with_new_ports

pytestmark = pytest.mark.integration


def last_minutes(minutes: int) -> dict[str, str]:
    end = window_start(utc_now(), Granularity.MINUTE) + timedelta(minutes=1)
    return {"startTime": format_rfc3339(end - timedelta(minutes=minutes)), "endTime": format_rfc3339(end)}


def test_a_key_is_required_and_must_be_known(query_api):
    missing = query_api.get("/v1/metrics/all_events", params=last_minutes(5))
    assert missing.status_code == 401
    assert "missing API key" in missing.json()["message"]
    unknown = query_api.get(
        "/v1/metrics/all_events", params=last_minutes(5), headers={"Authorization": "Bearer ak_nobody"}
    )
    assert unknown.status_code == 401
    assert unknown.json()["message"] == "unknown API key"


def test_a_project_reads_only_its_own_metrics(stream_worker, query_api, make_project, stack_settings):
    mine, theirs = make_project("mine"), make_project("theirs")
    with RawWriter(stack_settings.kafka_bootstrap_servers) as writer:
        writer.events(theirs.project_id, [new_event(eventType="purchase") for _ in range(7)])
        writer.events(mine.project_id, [new_event(eventType="purchase") for _ in range(2)])
    for project in (mine, theirs):
        wait_caught_up(
            stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
        )

    def total(project) -> int:
        answer = query_api.get("/v1/metrics/purchase", params=last_minutes(3), headers=project.auth)
        assert answer.status_code == 200, answer.text
        return sum(point["value"] for point in answer.json()["data"])

    assert (total(mine), total(theirs)) == (2, 7)


def test_the_series_is_zero_filled_one_point_per_window(query_api, project):
    params = {**last_minutes(10), "granularity": "1m"}
    answer = query_api.get("/v1/metrics/page_view", params=params, headers=project.auth)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["metric"], body["granularity"], body["source"]) == ("page_view", "1m", "cache")
    first = window_start(utc_now(), Granularity.MINUTE) - timedelta(minutes=9)
    expected = [format_window(first + timedelta(minutes=i)) for i in range(10)]
    assert [point["timestamp"] for point in body["data"]] == expected
    assert all(point["value"] == point["uniqueUsers"] == 0 for point in body["data"])


def test_bad_queries_are_refused_naming_the_field(query_api, project):
    answer = query_api.get(
        "/v1/metrics/all_events",
        params={"startTime": "2026-11-26T12:00:00Z", "endTime": "2026-11-27T13:00:00Z", "granularity": "1m"},
        headers=project.auth,
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["field"] == "endTime"
    assert "1500 windows" in error["message"]

    answer = query_api.get(
        "/v1/metrics/all_events", params={"startTime": "noon", "granularity": "5m"}, headers=project.auth
    )
    assert answer.status_code == 400
    assert {e["field"] for e in answer.json()["errors"]} == {"startTime", "endTime", "granularity"}


def test_with_redis_unreachable_windows_come_from_the_lake(stack_settings, project):
    """Nothing listens at this Redis address: the windows come from the lakehouse (none of this
    project's events are there: zeros, said to be the warehouse's), and /readyz says Redis is down."""
    settings = with_new_ports(stack_settings, "query").model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "redis_timeout_s": 0.3}
    )
    server = QueryServer(settings)
    server.ensure_running()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            answer = client.get("/v1/metrics/all_events", params=last_minutes(2), headers=project.auth)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["source"] == "warehouse"
            assert all(p["value"] == 0 and p["source"] == "warehouse" for p in body["data"])
            assert client.get("/readyz").status_code == 503
    finally:
        server.stop()
