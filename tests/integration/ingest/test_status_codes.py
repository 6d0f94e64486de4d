"""Every answer of POST /v1/events, and the rule behind it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.metadata.store import MetadataStore
from tests.support.events import new_event
from tests.support.kafka_reader import read_topic


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def fields_of(response: httpx.Response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


class TestBadRequest:
    def test_invalid_json_names_the_body(self, api, project):
        response = api.post("/v1/events", content=b'{"eventId": ', headers=project.auth)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_json"
        assert "body" in fields_of(response)

    def test_nan_is_not_json(self, api, project):
        body = b'{"eventId":"e1","eventType":"page_view","userId":"u","properties":{"x":NaN}}'
        assert api.post("/v1/events", content=body, headers=project.auth).status_code == 400

    def test_every_missing_field_is_named(self, api, project):
        response = api.post("/v1/events", json={}, headers=project.auth)
        assert response.status_code == 400
        assert fields_of(response) == {
            "eventId": "is required",
            "eventType": "is required",
            "userId": "is required",
        }

    @pytest.mark.parametrize(
        ("field", "value", "fragment"),
        [
            ("eventId", "has space", "must match"),
            ("eventId", "x" * 129, "must match"),
            ("eventId", 42, "must be a string"),
            ("eventType", "AddToCart", "must match"),
            ("eventType", "9lives", "must match"),
            ("eventType", "a" * 65, "must match"),
            ("userId", "", "at least 1"),
            ("userId", ["u"], "must be a string"),
            ("properties", [1, 2], "JSON object"),
            ("timestamp", "2026-11-26", "RFC 3339"),
            ("timestamp", "2026-11-26T10:00:00", "RFC 3339"),  # no offset
            ("timestamp", 1700000000, "must be a string"),
            ("sentAt", "yesterday", "RFC 3339"),
            ("colour", "red", "not a known field"),
        ],
    )
    def test_ill_formed_field_is_named(self, api, project, field, value, fragment):
        response = api.post("/v1/events", json=new_event(**{field: value}), headers=project.auth)
        assert response.status_code == 400, response.text
        assert fragment in fields_of(response)[field]

    def test_timestamp_more_than_an_hour_ahead(self, api, project):
        ahead = datetime.now(UTC) + timedelta(hours=1, minutes=5)
        response = api.post("/v1/events", json=new_event(timestamp=iso(ahead)), headers=project.auth)
        assert response.status_code == 400
        assert "future" in fields_of(response)["timestamp"]

    def test_timestamp_more_than_thirty_days_back(self, api, project):
        old = datetime.now(UTC) - timedelta(days=30, hours=1)
        response = api.post("/v1/events", json=new_event(timestamp=iso(old)), headers=project.auth)
        assert response.status_code == 400
        assert "past" in fields_of(response)["timestamp"]

    def test_timestamps_inside_the_window_pass(self, api, project):
        for moment in (datetime.now(UTC) + timedelta(minutes=55), datetime.now(UTC) - timedelta(days=29)):
            response = api.post("/v1/events", json=new_event(timestamp=iso(moment)), headers=project.auth)
            assert response.status_code == 202, response.text

    def test_a_rejected_event_never_reaches_kafka(self, api, project, stack_settings):
        api.post("/v1/events", json=new_event(eventType="Bad"), headers=project.auth)
        good = new_event()
        api.post("/v1/events", json=good, headers=project.auth)
        stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
        assert [s.key for s in stored] == [good["eventId"]]


CART_SCHEMA = {
    "type": "object",
    "required": ["productId", "amount"],
    "properties": {"productId": {"type": "string"}, "amount": {"type": "number", "minimum": 0}},
}


class TestRegisteredSchema:
    def test_properties_must_satisfy_the_schema_of_their_event_type(self, api, project, metadata_store):
        metadata_store.register_schema(project.project_id, "add_to_cart", CART_SCHEMA)
        bad = new_event(eventType="add_to_cart", properties={"productId": 7, "amount": -1})
        response = api.post("/v1/events", json=bad, headers=project.auth)
        assert response.status_code == 400
        errors = fields_of(response)
        assert set(errors) == {"properties.productId", "properties.amount"}
        assert "string" in errors["properties.productId"]

        missing = api.post("/v1/events", json=new_event(eventType="add_to_cart"), headers=project.auth)
        assert missing.status_code == 400
        assert fields_of(missing) == {
            "properties.productId": "is required",
            "properties.amount": "is required",
        }

        good = new_event(eventType="add_to_cart", properties={"productId": "p", "amount": 3})
        assert api.post("/v1/events", json=good, headers=project.auth).status_code == 202

    def test_every_bad_field_is_named_at_once_envelope_times_and_properties(
        self, api, project, metadata_store
    ):
        metadata_store.register_schema(project.project_id, "add_to_cart", CART_SCHEMA)
        bad = new_event(
            eventId="bad id", eventType="add_to_cart", timestamp="nope", properties={"amount": -1}
        )
        response = api.post("/v1/events", json=bad, headers=project.auth)
        assert response.status_code == 400
        assert set(fields_of(response)) == {
            "eventId",
            "timestamp",
            "properties.productId",
            "properties.amount",
        }

    def test_an_accepted_event_is_stamped_with_the_schema_version_it_passed(
        self, api, project, metadata_store, stack_settings
    ):
        metadata_store.register_schema(project.project_id, "add_to_cart", CART_SCHEMA)
        metadata_store.register_schema(project.project_id, "add_to_cart", CART_SCHEMA)  # version 2
        cart = new_event(eventType="add_to_cart", properties={"productId": "p", "amount": 3})
        plain = new_event(eventType="signup")
        for event in (cart, plain):
            assert api.post("/v1/events", json=event, headers=project.auth).status_code == 202
        stored = {
            r.value["eventId"]: r.value
            for r in read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
        }
        assert stored[cart["eventId"]]["schemaVersion"] == 2
        assert "schemaVersion" not in stored[plain["eventId"]], "its type has no schema"

    def test_types_without_a_schema_pass_on_the_envelope(self, api, project, metadata_store):
        metadata_store.register_schema(project.project_id, "purchase", {"type": "object", "required": ["x"]})
        response = api.post("/v1/events", json=new_event(eventType="signup"), headers=project.auth)
        assert response.status_code == 202

    def test_a_new_version_applies_without_a_restart(self, api, project, metadata_store, redis_server):
        pid = project.project_id
        metadata_store.register_schema(pid, "purchase", {"type": "object"})
        assert (
            api.post("/v1/events", json=new_event(eventType="purchase"), headers=project.auth).status_code
            == 202
        )
        metadata_store.register_schema(pid, "purchase", {"type": "object", "required": ["orderId"]})
        # What `analytics schema register` does besides storing: point the cache at the new version.
        client = redis.Redis.from_url(redis_server.settings.redis_url)
        client.set(f"schema:{pid}:purchase:latest", "2")
        client.close()
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while datetime.now(UTC) < deadline:
            response = api.post("/v1/events", json=new_event(eventType="purchase"), headers=project.auth)
            if response.status_code == 400:
                break
        assert response.status_code == 400
        assert fields_of(response) == {"properties.orderId": "is required"}


class TestAuthAndSize:
    def test_missing_key(self, api):
        response = api.post("/v1/events", json=new_event())
        assert response.status_code == 401
        assert "missing API key" in response.json()["message"]

    def test_unknown_key(self, api):
        response = api.post("/v1/events", json=new_event(), headers={"Authorization": "Bearer ak_nope"})
        assert response.status_code == 401

    def test_wrong_scheme(self, api, project):
        header = {"Authorization": f"Basic {project.api_key}"}
        assert api.post("/v1/events", json=new_event(), headers=header).status_code == 401

    def test_revoked_key(self, api, make_project, metadata_store: MetadataStore):
        project = make_project()
        assert metadata_store.revoke_api_key(project.api_key[:10]).project_id == project.project_id
        # the service caches keys for api_key_cache_ttl_s (1 s in tests); a fresh key is not cached
        response = api.post("/v1/events", json=new_event(), headers=project.auth)
        assert response.status_code == 401

    def test_event_over_32_kb(self, api, project):
        body = new_event(properties={"blob": "x" * 33_000})
        response = api.post("/v1/events", json=body, headers=project.auth)
        assert response.status_code == 413
        assert "32768" in response.json()["message"]

    def test_event_over_32_kb_without_content_length(self, api, project):
        payload = json.dumps(new_event(properties={"blob": "x" * 33_000})).encode()

        def chunks():
            for start in range(0, len(payload), 4096):
                yield payload[start : start + 4096]

        response = api.post("/v1/events", content=chunks(), headers=project.auth)
        assert response.status_code == 413

    def test_event_just_under_32_kb_passes(self, api, project):
        body = new_event(properties={"blob": ""})
        body["properties"]["blob"] = "x" * (32 * 1024 - len(json.dumps(body)) - 10)
        assert api.post("/v1/events", json=body, headers=project.auth).status_code == 202


class TestDuplicates:
    def test_same_event_id_twice_is_409_and_stored_once(self, api, project, stack_settings):
        body = new_event()
        assert api.post("/v1/events", json=body, headers=project.auth).status_code == 202
        second = api.post("/v1/events", json=body, headers=project.auth)
        assert second.status_code == 409
        assert second.json()["error"] == "duplicate"
        stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
        assert len(stored) == 1

    def test_dedup_is_namespaced_by_project(self, api, make_project):
        first, second = make_project(), make_project()
        body = new_event()
        assert api.post("/v1/events", json=body, headers=first.auth).status_code == 202
        assert api.post("/v1/events", json=body, headers=second.auth).status_code == 202

    def test_dedup_key_lives_24_hours(self, api, project, redis_server):
        body = new_event()
        api.post("/v1/events", json=body, headers=project.auth)
        client = redis.Redis.from_url(redis_server.settings.redis_url)
        key = f"event:{project.project_id}:{body['eventId']}"
        assert client.get(key) == b"accepted"
        assert 86_000 < client.ttl(key) <= 86_400
        client.close()


class TestRateLimits:
    def test_429_with_retry_after_when_the_project_is_over_its_limit(self, start_ingest, project):
        server = start_ingest(rate_limit_project="5/minute")
        with httpx.Client(base_url=server.url) as client:
            codes = [
                client.post("/v1/events", json=new_event(), headers=project.auth).status_code
                for _ in range(8)
            ]
            assert codes[:5] == [202] * 5
            assert codes[5:] == [429] * 3
            limited = client.post("/v1/events", json=new_event(), headers=project.auth)
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert limited.json()["error"] == "rate_limited"

    def test_limits_are_per_project(self, start_ingest, make_project):
        server = start_ingest(rate_limit_project="3/minute")
        busy, quiet = make_project(), make_project()
        with httpx.Client(base_url=server.url) as client:
            codes = [
                client.post("/v1/events", json=new_event(), headers=busy.auth).status_code for _ in range(4)
            ]
            assert codes == [202, 202, 202, 429], "the busy project is throttled"
            assert client.post("/v1/events", json=new_event(), headers=quiet.auth).status_code == 202

    def test_per_event_type_and_per_user_limits(self, start_ingest, project):
        server = start_ingest(rate_limit_event_type="3/minute", rate_limit_user="2/minute")
        with httpx.Client(base_url=server.url) as client:
            views = [
                client.post("/v1/events", json=new_event(userId=f"u{i}"), headers=project.auth)
                for i in range(4)
            ]
            assert [r.status_code for r in views] == [202, 202, 202, 429]
            assert int(views[-1].headers["Retry-After"]) >= 1
            # signup has its own per-type budget (3), but one user gets only 2
            signups = [
                client.post(
                    "/v1/events", json=new_event(eventType="signup", userId="heavy"), headers=project.auth
                )
                for _ in range(3)
            ]
            assert [r.status_code for r in signups] == [202, 202, 429]


class TestLimitsInsideABatch:
    """A batch is no way past a per-userId or per-eventType limit: the events over it come back
    in ``retry`` with ``retryAfter``, as single requests would get 429, and are not in Kafka."""

    def test_a_user_over_the_limit_in_one_batch(self, start_ingest, project, stack_settings):
        server = start_ingest(rate_limit_user="3/minute")
        events = [new_event(userId="heavy") for _ in range(4)] + [new_event(userId="light")]
        answer = httpx.post(
            f"{server.url}/v1/batch", json={"events": events}, headers=project.auth, timeout=30
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        ids = [e["eventId"] for e in events]
        assert body["accepted"] == [ids[0], ids[1], ids[2], ids[4]]
        assert [(r["index"], r["eventId"], r["reason"]) for r in body["retry"]] == [(3, ids[3], "throttled")]
        assert 1 <= body["retry"][0]["retryAfter"] <= 60
        stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
        assert sorted(r.key for r in stored) == sorted(body["accepted"])
        again = httpx.post(
            f"{server.url}/v1/events", json=new_event(userId="heavy"), headers=project.auth, timeout=30
        )
        assert again.status_code == 429, "the batch spent the user's budget"

    def test_an_event_type_over_the_limit_in_one_batch(self, start_ingest, project):
        server = start_ingest(rate_limit_event_type="5/minute")
        events = [new_event(eventType="signup", userId=f"u{i}") for i in range(7)]
        answer = httpx.post(
            f"{server.url}/v1/batch", json={"events": events}, headers=project.auth, timeout=30
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert len(body["accepted"]) == 5
        assert [r["index"] for r in body["retry"]] == [5, 6]
        assert {r["reason"] for r in body["retry"]} == {"throttled"}

    def test_an_event_over_its_type_limit_does_not_spend_its_user_s(self, start_ingest, project):
        server = start_ingest(rate_limit_event_type="1/minute", rate_limit_user="2/minute")
        events = [new_event(eventType="signup", userId="u"), new_event(eventType="signup", userId="u")]
        first = httpx.post(
            f"{server.url}/v1/batch", json={"events": events}, headers=project.auth, timeout=30
        )
        assert [r["index"] for r in first.json()["retry"]] == [1]
        other = httpx.post(
            f"{server.url}/v1/events", json=new_event(eventType="page_view", userId="u"), headers=project.auth
        )
        assert other.status_code == 202, "the user spent 1 of 2: the throttled signup did not count"
