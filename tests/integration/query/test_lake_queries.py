"""The query service over a real lake: SQL (exact, isolated, refused where it must be, cached until a
new ETL run), metrics answered from the lake where Redis has no window (cached the same way),
lakeCompleteUpTo, and where one event is. Events go in through the ingestion API (stamped,
indexed, counted by the stream worker); the lake is written by the real Spark ETL into the session
stack's lake."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.realtime.windows import Granularity, format_window, window_start
from analytics_pipeline.stack.api_servers import QueryServer
from analytics_pipeline.timeutil import format_rfc3339, parse_rfc3339, utc_now
from resources.kafka import KafkaResource
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.lake_queries import Loaded, events_at, new_project, rows, run_etl, send, sql
from tests.support.lakehouse_dagster import LakeGraph
from tests.support.stack import with_new_ports

pytestmark = pytest.mark.integration

HOURS_BACK = (70, 75, 80)  # beyond the test Redis's 60 h of hour windows: only the lake has them


@pytest.fixture(scope="module")
def ingest(ingest_server) -> httpx.Client:
    with httpx.Client(base_url=ingest_server.url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
def loaded(  # noqa: PLR0917 - the services the load goes through
    stack_settings, ingest, metadata_store, kafka_broker, stream_worker, metadata_indexer, spark
) -> Loaded:
    shop, blog = (new_project(stack_settings, metadata_store, name) for name in ("shop", "blog"))
    now = utc_now()
    hour = window_start(now, Granularity.HOUR)
    old = [hour - timedelta(hours=h, minutes=m) for h in HOURS_BACK for m in (5, 10, 20, 40)]
    recent = [now - timedelta(minutes=m) for m in (1, 2, 3)]
    sent = {shop.project_id: events_at(old + recent), blog.project_id: events_at(old[:5])}
    for project in (shop, blog):
        send(ingest, project, sent[project.project_id])
    bad = new_event(
        eventType="purchase", properties={"amount": 5, "currency": "XXX"}, timestamp=format_rfc3339(old[0])
    )
    send(ingest, shop, [bad])
    graph = LakeGraph(stack_settings, Path(stack_settings.lake_root))
    kafka = KafkaResource(
        bootstrap_servers=stack_settings.kafka_bootstrap_servers, etl_group=stack_settings.etl_group
    )
    run_etl(graph, kafka, [shop.project_id, blog.project_id])
    assert graph.run_daily_range(min(m.date() for m in old), max(m.date() for m in old)).success
    for project in (shop, blog):
        wait_caught_up(
            stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
        )
    return Loaded(shop, blog, sent, bad["eventId"], graph, kafka)


def test_sql_counts_equal_what_was_sent(query_api, loaded: Loaded):
    shop = loaded.shop
    sent = loaded.sent[shop.project_id]
    assert rows(query_api, shop, "select count(*) from events") == [[len(sent)]]
    by_type = dict(rows(query_api, shop, "select eventType, count(*) from events group by 1"))
    assert by_type == dict(Counter(e["eventType"] for e in sent))
    days = dict(rows(query_api, shop, "select metricDate, events from daily_metrics"))
    in_lake = Counter(parse_rfc3339(e["timestamp"]).date().isoformat() for e in sent)
    assert days == {day: n for day, n in in_lake.items() if day in days}
    assert rows(query_api, shop, "select reason from quarantined_events") == [
        ["purchase_expectations: purchase currency known (got XXX)"]
    ]
    posted = query_api.post("/v1/query", json={"sql": "select count(*) from events"}, headers=shop.auth)
    assert posted.json()["rows"] == [[len(sent)]]
    assert set(posted.json()) == {"columns", "rows", "cached", "elapsedMs", "lakeCompleteUpTo"}


@pytest.mark.parametrize(
    "statement",
    [
        "select distinct projectId from events",
        "select distinct projectId from events where projectId <> '{mine}'",
        "select distinct projectId from EVENTS /* {other} */ -- events of {other}",
        "select distinct projectId from events union select projectId from quarantined_events",
        "select distinct projectId from (select * from events where projectId = '{other}' or 1 = 1)",
        "select distinct projectId from daily_metrics",
        "with e as (select * from events) select distinct projectId from e",
        'select distinct projectId from "events"',
    ],
)
def test_every_read_sees_only_the_key_s_project(query_api, loaded: Loaded, statement: str):
    mine, other = loaded.shop.project_id, loaded.blog.project_id
    found = rows(query_api, loaded.shop, statement.format(mine=mine, other=other))
    assert found in ([[mine]], []), found


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        (
            "select * from read_parquet('{lake}/validated_events/projectId={other}/*/*.parquet')",
            "table_function",
        ),
        ("select * from '{lake}/validated_events/projectId={other}/*/*.parquet'", "table"),
        ("select * from validated_events", "table"),
        ("delete from events", "read_only"),
        ("copy events to '/tmp/out.csv'", "read_only"),
        ("attach '{lake}/x.db'", "read_only"),
        ("pragma database_list", "read_only"),
        ("set enable_external_access = true", "read_only"),
        ("install httpfs", "read_only"),
        ("select 1; select 2", "single_statement"),
        ("select * from duckdb_settings()", "table_function"),
    ],
)
def test_forbidden_statements_are_refused_with_their_rule(query_api, loaded, stack_settings, statement, rule):
    text = statement.format(lake=stack_settings.lake_root, other=loaded.blog.project_id)
    answer = sql(query_api, loaded.shop, text)
    assert answer.status_code == 400
    assert answer.json()["rule"] == rule
    assert answer.json()["message"]


def test_answers_are_cached_until_a_new_etl_run_changes_a_table(query_api, loaded: Loaded, ingest):
    statement = "select count(*) as n, 'cache test' as t from events"
    moment = utc_now() - timedelta(hours=HOURS_BACK[0])
    hour = window_start(moment, Granularity.HOUR)
    old_hours = {"startTime": format_window(hour), "endTime": format_window(hour + timedelta(hours=2))}

    def hourly() -> dict:
        answer = query_api.get(
            "/v1/metrics/all_events", params={**old_hours, "granularity": "1h"}, headers=loaded.shop.auth
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["source"] == "warehouse"
        return answer.json()

    first = sql(query_api, loaded.shop, statement).json()
    again = sql(query_api, loaded.shop, statement).json()
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["rows"] == first["rows"]
    windows, windows_again = hourly(), hourly()
    assert (windows["cached"], windows_again["cached"]) == (False, True)
    assert windows_again["data"] == windows["data"]
    extra = events_at([moment])
    send(ingest, loaded.shop, extra)
    run_etl(loaded.graph, loaded.kafka, [loaded.shop.project_id])
    loaded.sent[loaded.shop.project_id] += extra
    time.sleep(1.5)  # the service re-reads table versions at most every second
    after = sql(query_api, loaded.shop, statement).json()
    assert after["cached"] is False
    assert after["rows"][0][0] == first["rows"][0][0] + 1
    windows_after = hourly()
    assert windows_after["cached"] is False, "the lake's windows are recomputed after the ETL run"
    assert windows_after["data"][0]["value"] == windows["data"][0]["value"] + 1


def test_metrics_beyond_redis_come_from_the_lake_exactly(query_api, loaded: Loaded):
    shop, now = loaded.shop, utc_now()
    # From the oldest event sent, not from now: the load was timed before this test, maybe in
    # the hour before.
    oldest = min(parse_rfc3339(e["timestamp"]) for e in loaded.sent[shop.project_id])
    start = window_start(oldest, Granularity.HOUR)
    answer = query_api.get(
        "/v1/metrics/all_events",
        params={"startTime": format_window(start), "endTime": format_rfc3339(now), "granularity": "1h"},
        headers=shop.auth,
    ).json()
    assert answer["source"] == "mixed"
    by_hour = {p["timestamp"]: p for p in answer["data"]}
    expected = Counter(
        format_window(window_start(parse_rfc3339(e["timestamp"]), Granularity.HOUR))
        for e in loaded.sent[shop.project_id]
    )
    old = {h: n for h, n in expected.items() if parse_rfc3339(h) < parse_rfc3339(answer["retainedFrom"])}
    assert old, "some hours are beyond Redis"
    for hour, count in old.items():
        assert (by_hour[hour]["value"], by_hour[hour]["source"]) == (count, "warehouse"), hour
    recent = [p for p in answer["data"] if p["source"] == "cache"]
    assert sum(p["value"] for p in recent) >= 3, "the minutes just sent are in Redis"
    assert answer["lakeCompleteUpTo"] is not None


def test_lake_complete_up_to_follows_the_committed_offsets(query_api, loaded: Loaded, stack_settings):
    answer = sql(query_api, loaded.shop, "select 1").json()
    complete = parse_rfc3339(answer["lakeCompleteUpTo"])
    margin = timedelta(seconds=stack_settings.kafka_produce_timeout_s)
    assert (
        utc_now() - margin - timedelta(seconds=15) < complete <= utc_now() - margin + timedelta(seconds=1)
    ), "every record is committed: complete up to now, less the produce timeout"


def test_where_an_event_is(query_api, loaded: Loaded, metadata_indexer, stack_settings):
    shop = loaded.shop
    event = loaded.sent[shop.project_id][0]
    wait_caught_up(
        stack_settings.kafka_bootstrap_servers, stack_settings.index_group, raw_topic(shop.project_id)
    )
    found = query_api.get(f"/v1/events/{event['eventId']}", headers=shop.auth).json()
    assert found["accepted"]["eventType"] == event["eventType"]
    assert found["accepted"]["topic"] == raw_topic(shop.project_id)
    assert found["stream"]["counted"] is True
    assert found["stream"]["position"] == f"{found['accepted']['partition']}@{found['accepted']['offset']}"
    assert found["lake"]["status"] == "validated"
    assert found["lake"]["detail"]["eventDate"] == event["timestamp"][:10]

    barred = query_api.get(f"/v1/events/{loaded.quarantined_id}", headers=shop.auth).json()
    assert barred["lake"]["status"] == "quarantined"
    assert barred["lake"]["detail"]["reason"] == "purchase_expectations: purchase currency known (got XXX)"

    assert query_api.get("/v1/events/no-such-event", headers=shop.auth).status_code == 404
    other = query_api.get(f"/v1/events/{event['eventId']}", headers=loaded.blog.auth)
    assert other.status_code == 404, "another project's key does not find it"

    user = event["userId"]
    latest = query_api.get(f"/v1/users/{user}/events", params={"limit": 3}, headers=shop.auth).json()
    times = [e["timestamp"] for e in latest["events"]]
    assert len(times) == 3
    assert times == sorted(times, reverse=True)
    assert all(e["userId"] == user for e in latest["events"])


def test_with_redis_stopped_metrics_and_sql_answer_from_the_lake_and_the_breaker_recovers(
    loaded: Loaded, stack_settings, own_redis
):
    settings = with_new_ports(stack_settings, "query").model_copy(
        update={
            "redis_url": own_redis.settings.redis_url,
            "redis_timeout_s": 0.3,
            "breaker_min_calls": 2,
            "breaker_reset_timeout_s": 2.0,
        }
    )
    server = QueryServer(settings)
    server.ensure_running()
    shop, now = loaded.shop, utc_now()
    window = {
        "startTime": format_window(window_start(now, Granularity.HOUR) - timedelta(hours=2)),
        "granularity": "1h",
    }
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:

            def metrics() -> dict:
                answer = client.get(
                    "/v1/metrics/all_events",
                    params={**window, "endTime": format_rfc3339(utc_now())},
                    headers=shop.auth,
                )
                assert answer.status_code == 200, answer.text
                return answer.json()

            def breaker() -> str:
                text = client.get("/metrics").text.splitlines()
                return next(m for m in text if m.startswith("analytics_redis_breaker_state")).split()[-1]

            assert metrics()["source"] == "cache"
            own_redis.stop()
            for _ in range(3):
                down = metrics()
                assert down["source"] == "warehouse"
                assert {p["source"] for p in down["data"]} == {"warehouse"}
            assert breaker() == "2.0", "open"
            answered = client.get(
                "/v1/query", params={"sql": "select count(*) from events"}, headers=shop.auth
            )
            assert answered.status_code == 200
            assert answered.json()["cached"] is False
            own_redis.ensure_running()
            time.sleep(2.5)  # the breaker's reset timeout: the next call is its probe
            assert metrics()["source"] == "cache"
            assert breaker() == "0.0", "closed again"
    finally:
        server.stop()


HEAVY = "select count(*) from " + ", ".join(f"events e{n}" for n in range(10))  # noqa: S608 - ~16**10 rows


def test_a_busy_lake_sheds_cache_misses_with_503_while_cached_answers_and_redis_metrics_keep_flowing(
    loaded: Loaded, stack_settings
):
    settings = with_new_ports(stack_settings, "query").model_copy(
        update={"query_lake_slots": 1, "query_queue_wait_s": 0.3, "query_time_limit_s": 4.0}
    )
    server = QueryServer(settings)
    server.ensure_running()
    shop = loaded.shop
    cached = {"sql": "select count(*), 'warm' from events"}
    minute = window_start(utc_now(), Granularity.MINUTE)
    recent = {
        "startTime": format_window(minute - timedelta(minutes=5)),
        "endTime": format_window(minute + timedelta(minutes=1)),
    }
    try:
        with httpx.Client(base_url=server.url, timeout=30, headers=shop.auth) as client:
            assert client.get("/v1/query", params=cached).json()["cached"] is False
            with ThreadPoolExecutor(4) as pool:
                heavy = [pool.submit(client.get, "/v1/query", params={"sql": HEAVY}) for _ in range(3)]
                time.sleep(0.5)  # the first holds the lake's only slot
                started = time.perf_counter()
                hit = client.get("/v1/query", params=cached)
                metric = client.get("/v1/metrics/all_events", params=recent)
                served_in = time.perf_counter() - started
                answers = [future.result() for future in heavy]
            assert hit.json()["cached"] is True
            assert metric.status_code == 200
            assert metric.json()["source"] == "cache"
            assert served_in < 1.0, "answered while the lake was busy, without waiting for a turn"
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses.count(503) >= 1, statuses
            shed = next(answer for answer in answers if answer.status_code == 503)
            assert shed.headers["Retry-After"] == "1"
            assert set(statuses) <= {400, 503}, "the one that ran hit the time limit"
            limited = next(answer for answer in answers if answer.status_code == 400)
            assert limited.json()["rule"] == "time_limit"
    finally:
        server.stop()


def test_spark_sql_as_the_engine_gives_the_same_answers(loaded: Loaded, stack_settings, query_api, own_redis):
    settings = with_new_ports(stack_settings, "query").model_copy(
        update={
            "query_engine": "spark",
            "spark_master": "local[2]",
            "query_time_limit_s": 90.0,  # a cold local[2] Spark on a busy machine: answers, not speed
            "redis_url": own_redis.settings.redis_url,  # its own cache: every answer computed by Spark
        }
    )
    server = QueryServer(settings)
    server.ensure_running()
    shop = loaded.shop
    statements = [
        "select eventType, count(*) as n from events group by eventType order by eventType",
        "select distinct projectId from events union select projectId from quarantined_events",
        "select metricDate, events from daily_metrics order by metricDate",
    ]
    try:
        with httpx.Client(base_url=server.url, timeout=120, headers=shop.auth) as client:
            for statement in statements:
                spark = client.get("/v1/query", params={"sql": statement})
                assert spark.status_code == 200, spark.text
                assert spark.json()["cached"] is False
                assert spark.json()["rows"] == rows(query_api, shop, statement), statement
            refused = client.get("/v1/query", params={"sql": "select * from delta.`/tmp/lake/events`"})
            assert refused.status_code == 400
    finally:
        server.stop()
