"""The `analytics` command, run as a separate process against the session's Kafka and Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from analytics_pipeline.kafka_io.admin import describe_topic_configs, topic_offsets
from analytics_pipeline.kafka_io.topics import DAY_MS, raw_topic
from analytics_pipeline.loadgen.skew import event_ids_on_partition
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import parse_rfc3339, utc_now
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic
from tests.support.raw_events import RawWriter

ANALYTICS = str(Path(sys.executable).with_name("analytics"))


@pytest.fixture
def run(stack_settings: Settings, redis_server, kafka_broker):
    env = {**os.environ, **stack_settings.as_environment()}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [ANALYTICS, *args], env=env, capture_output=True, text=True, timeout=180, check=False
        )
        if check:
            assert result.returncode == 0, result.stderr + result.stdout
        return result

    return run


def unique_name() -> str:
    return f"Shop {uuid.uuid4().hex[:8]}"


def test_project_create_json_prints_id_and_key_and_makes_the_topics(run, stack_settings, api):
    name = unique_name()
    created = json.loads(run("project", "create", name, "--json").stdout)
    project_id = created["project_id"]
    assert project_id == name.lower().replace(" ", "-")
    assert created["api_key"].startswith("ak_")

    bootstrap = stack_settings.kafka_bootstrap_servers
    raw = describe_topic_configs(bootstrap, f"events.{project_id}")
    assert raw["retention.ms"] == str(7 * DAY_MS)
    assert raw["compression.type"] == "snappy"
    assert describe_topic_configs(bootstrap, f"events.processed.{project_id}")["retention.ms"] == str(
        30 * DAY_MS
    )
    assert topic_offsets(bootstrap, f"events.dlq.{project_id}"), "dead-letter topic exists"
    assert len(topic_offsets(bootstrap, f"events.{project_id}")) == stack_settings.kafka_topic_partitions

    # the key, created by another process, works in the running service
    event = {"eventId": "e1", "eventType": "signup", "userId": "u"}
    response = api.post("/v1/events", json=event, headers={"Authorization": f"Bearer {created['api_key']}"})
    assert response.status_code == 202


def test_creating_a_project_twice_fails_clearly(run):
    name = unique_name()
    run("project", "create", name, "--json")
    again = run("project", "create", name, "--json", check=False)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert again.stdout == ""


def test_extra_keys_and_revocation(run, api):
    project_id = json.loads(run("project", "create", unique_name(), "--json").stdout)["project_id"]
    key = json.loads(run("key", "create", project_id, "--label", "ios", "--json").stdout)["api_key"]
    auth = {"Authorization": f"Bearer {key}"}
    event = {"eventId": "e1", "eventType": "signup", "userId": "u"}
    assert api.post("/v1/events", json=event, headers=auth).status_code == 202
    listed = run("key", "list", project_id).stdout
    assert key[:10] in listed, "the prefix that `key revoke` takes is shown"
    assert "ios" in listed
    assert key not in listed, "never the secret"
    revoked = run("key", "revoke", key[:10])
    assert f"revoked key {key[:10]} of project {project_id}" in revoked.stderr
    time.sleep(1.2)  # the service caches keys for api_key_cache_ttl_s (1 s in tests)
    assert api.post("/v1/events", json={**event, "eventId": "e2"}, headers=auth).status_code == 401
    assert key[:10] not in run("key", "list", project_id).stdout
    assert key[:10] in run("key", "list", project_id, "--all").stdout
    again = run("key", "revoke", key[:10], check=False)
    assert again.returncode == 1
    assert "no live key starts with" in again.stderr


def test_an_ambiguous_prefix_revokes_nothing_and_says_so(run, api):
    created = json.loads(run("project", "create", unique_name(), "--json").stdout)
    run("key", "create", created["project_id"], "--json")
    result = run("key", "revoke", "ak_", check=False)
    assert result.returncode == 1
    assert "'ak_' matches" in result.stderr
    assert "analytics key list" in result.stderr
    event = {"eventId": "e1", "eventType": "signup", "userId": "u"}
    assert (
        api.post(
            "/v1/events", json=event, headers={"Authorization": f"Bearer {created['api_key']}"}
        ).status_code
        == 202
    )


def test_a_whole_key_can_be_revoked_too(run):
    created = json.loads(run("project", "create", unique_name(), "--json").stdout)
    assert "revoked key" in run("key", "revoke", created["api_key"]).stderr
    assert created["api_key"][:10] not in run("key", "list", created["project_id"]).stdout


def test_a_unicode_name_is_transliterated_and_the_id_made_is_shown(run):
    suffix = uuid.uuid4().hex[:6]
    result = run("project", "create", f"Ünïcode Shop!! {suffix}")
    assert f"project id unicode-shop-{suffix}" in result.stdout
    assert "derived from" in result.stdout


def test_schema_register_stores_a_version_and_publishes_it(run, tmp_path, redis_server):
    project_id = json.loads(run("project", "create", unique_name(), "--json").stdout)["project_id"]
    schema_file = tmp_path / "purchase.json"
    schema_file.write_text(json.dumps({"type": "object", "required": ["orderId"]}))
    result = run("schema", "register", project_id, "purchase", str(schema_file))
    assert "version 1" in result.stderr
    client = redis.Redis.from_url(redis_server.settings.redis_url)
    assert client.get(f"schema:{project_id}:purchase:latest") == b"1"
    assert json.loads(client.get(f"schema:{project_id}:purchase:1")) == {
        "type": "object",
        "required": ["orderId"],
    }
    assert 86_000 < client.ttl(f"schema:{project_id}:purchase:1") <= 86_400
    client.close()
    assert "version 2" in run("schema", "register", project_id, "purchase", str(schema_file)).stderr


def test_a_schema_registered_with_the_cli_is_enforced_by_the_running_service(
    run, tmp_path, api, stack_settings
):
    """One chain: `project create`, `schema register`, then the session's ingestion API."""
    created = json.loads(run("project", "create", unique_name(), "--json").stdout)
    auth = {"Authorization": f"Bearer {created['api_key']}"}
    schema_file = tmp_path / "purchase.json"
    schema_file.write_text(json.dumps({"type": "object", "required": ["orderId"]}))
    run("schema", "register", created["project_id"], "purchase", str(schema_file))

    refused = api.post("/v1/events", json=new_event(eventType="purchase"), headers=auth)
    assert refused.status_code == 400, refused.text
    assert {e["field"]: e["message"] for e in refused.json()["errors"]} == {
        "properties.orderId": "is required"
    }
    kept = new_event(eventType="purchase", properties={"orderId": "o-1"})
    assert api.post("/v1/events", json=kept, headers=auth).status_code == 202
    (stored,) = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(created["project_id"]))
    assert (stored.key, stored.value["schemaVersion"]) == (kept["eventId"], 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not JSON"), ('{"type": 5}', "not a valid JSON Schema")],
)
def test_schema_register_refuses_bad_files(run, tmp_path, content, message):
    project_id = json.loads(run("project", "create", unique_name(), "--json").stdout)["project_id"]
    schema_file = tmp_path / "bad.json"
    schema_file.write_text(content)
    result = run("schema", "register", project_id, "purchase", str(schema_file), check=False)
    assert result.returncode == 1
    assert message in result.stderr


def test_schema_register_names_an_unknown_project(run, tmp_path):
    schema_file = tmp_path / "s.json"
    schema_file.write_text("{}")
    result = run("schema", "register", "ghost", "purchase", str(schema_file), check=False)
    assert result.returncode == 1
    assert "no project 'ghost'" in result.stderr


def test_generate_sends_realistic_events_and_offsets_show_them(run, stack_settings):
    created = json.loads(run("project", "create", unique_name(), "--json").stdout)
    project_id = created["project_id"]
    result = run(
        "generate", "--project", project_id, "--events", "300", "--days", "2", "--api-key", created["api_key"]
    )
    assert "delivered" in result.stderr

    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project_id))
    assert len(stored) == 300
    types = {s.value["eventType"] for s in stored}
    assert types >= {"page_view", "add_to_cart", "purchase"}
    oldest = min(parse_rfc3339(s.value["timestamp"]) for s in stored)
    assert (utc_now() - oldest).days < 2
    assert all(
        isinstance(s.value["properties"]["amount"], float | int)
        for s in stored
        if s.value["eventType"] == "purchase"
    )

    table = run("topics", "offsets", project_id).stdout
    assert f"events.{project_id}" in table
    assert "300" in table


def test_generate_refuses_a_key_of_another_project(run, stack_settings):
    mine = json.loads(run("project", "create", unique_name(), "--json").stdout)
    other = json.loads(run("project", "create", unique_name(), "--json").stdout)
    args = ("generate", "--project", mine["project_id"], "--events", "5", "--days", "1")
    result = run(*args, "--api-key", other["api_key"], check=False)
    assert result.returncode == 1
    assert f"belongs to project {other['project_id']!r}, not {mine['project_id']!r}" in result.stderr
    bootstrap = stack_settings.kafka_bootstrap_servers
    assert read_topic(bootstrap, raw_topic(other["project_id"])) == [], "nothing was sent"
    without_project = run("generate", "--events", "5", "--days", "1", "--api-key", other["api_key"])
    assert f"sending to project {other['project_id']}" in without_project.stderr
    assert len(read_topic(bootstrap, raw_topic(other["project_id"]))) == 5


def test_a_backfill_of_an_open_day_names_the_option_given(run):
    tomorrow = (utc_now().date() + timedelta(days=1)).isoformat()
    only_start = run("lakehouse", "backfill", "--start", tomorrow, check=False)
    assert only_start.returncode == 1
    assert f"--start {tomorrow} is not a closed day yet" in only_start.stderr
    with_end = run("lakehouse", "backfill", "--start", "2026-01-02", "--end", tomorrow, check=False)
    assert f"--end {tomorrow} is not a closed day yet" in with_end.stderr


def test_generate_without_a_key_says_how_to_get_one(run):
    result = run("generate", "--project", "demo", "--events", "1", check=False)
    assert result.returncode == 1
    assert "analytics key create" in result.stderr


def test_errors_show_patterns_verbatim(run, tmp_path):
    schema_file = tmp_path / "s.json"
    schema_file.write_text("{}")
    result = run("schema", "register", "demo", "Bad!", str(schema_file), check=False)
    assert result.returncode == 1
    assert "^[a-z][a-z0-9_]{0,63}$" in result.stderr, "rich must not eat the brackets as markup"


def test_topics_partitions_grows_the_raw_topic_and_refuses_to_shrink_it(run, stack_settings, stream_worker):
    project_id = json.loads(run("project", "create", unique_name(), "--json").stdout)["project_id"]
    topic, bootstrap = raw_topic(project_id), stack_settings.kafka_bootstrap_servers
    before = len(topic_offsets(bootstrap, topic))

    grown = run("topics", "partitions", project_id, str(before + 2)).stdout
    assert f"{topic}: {before} -> {before + 2} partitions" in grown
    assert [o.partition for o in topic_offsets(bootstrap, topic)] == list(range(before + 2))
    ids = event_ids_on_partition(before + 1, before + 2, 20)
    with RawWriter(bootstrap) as writer:
        writer.events(project_id, [new_event(eventId=event_id) for event_id in ids])
    assert {o.partition: o.latest for o in topic_offsets(bootstrap, topic)}[before + 1] == 20
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)  # the worker reads the new partition

    refused = run("topics", "partitions", project_id, str(before), check=False)
    assert refused.returncode == 1
    assert f"has {before + 2} partitions; Kafka cannot reduce them to {before}" in refused.stderr
    assert "already has" in run("topics", "partitions", project_id, str(before + 2)).stdout
