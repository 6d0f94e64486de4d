"""AnalyticsClient against a scripted fake server (httpx.MockTransport); no real sleeping."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from analytics_pipeline.sdk import AnalyticsClient, BatchOutcome, QueueFullError
from tests.unit.sdk.fakes import (
    T0,
    FakeServer,
    MakeClient,
    accept_all,
    track_many,
    unavailable,
)


class TestBatching:
    def test_batches_hold_at_most_batch_size_events(self, make_client: MakeClient) -> None:
        server = FakeServer()
        client = make_client(server, batch_size=3)
        ids = track_many(client, 7)
        assert client.flush(timeout_s=5)
        assert server.batch_sizes == [3, 3, 1]
        assert [i for n in range(3) for i in server.event_ids(n)] == ids
        assert client.report().delivered == 7

    def test_batches_stay_under_max_batch_bytes(self, make_client: MakeClient) -> None:
        server = FakeServer()
        client = make_client(server, max_batch_bytes=2_500)
        track_many(client, 5, pad="x" * 1_000)
        assert client.flush(timeout_s=5)
        assert server.batch_sizes == [2, 2, 1]
        assert max(server.sizes) <= 2_500

    def test_event_bigger_than_a_batch_is_refused_at_track(self, make_client: MakeClient) -> None:
        client = make_client(FakeServer(), max_batch_bytes=2_000)
        with pytest.raises(ValueError, match="smaller properties"):
            client.track("page_view", "u1", {"pad": "x" * 2_000})

    @pytest.mark.parametrize(("option", "value"), [("batch_size", 2_501), ("max_batch_bytes", 512_001)])
    def test_sizes_beyond_the_server_caps_are_refused(self, option: str, value: int) -> None:
        with pytest.raises(ValueError, match="server's cap"):
            AnalyticsClient("ak_test", **{option: value})

    @pytest.mark.parametrize(
        ("option", "value", "message"),
        [("backoff_s", (), "backoff_s"), ("max_retries", -1, "max_retries"), ("max_queue_size", 0, "queue")],
    )
    def test_impossible_settings_are_refused(self, option: str, value: object, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            AnalyticsClient("ak_test", **{option: value})

    def test_flush_interval_sends_without_an_explicit_flush(self, make_client: MakeClient) -> None:
        server = FakeServer()
        client = make_client(server, flush_interval_s=0.02)
        client.track("page_view", "u1")
        assert server.entered.wait(2)


class TestPayload:
    def test_events_carry_id_type_user_timestamp_and_batch_sent_at(self, make_client: MakeClient) -> None:
        server = FakeServer()
        client = make_client(server)
        given = client.track(
            "add_to_cart", "u1", {"amount": 29.99}, event_id="evt-1", timestamp="2026-11-26T13:00:00+01:00"
        )
        generated = client.track("signup", "u2", timestamp=T0)
        assert client.flush(timeout_s=5)
        first, second = server.bodies[0]["events"]
        assert given == "evt-1"
        assert first == {
            "eventId": "evt-1",
            "eventType": "add_to_cart",
            "userId": "u1",
            "timestamp": "2026-11-26T12:00:00.000Z",
            "properties": {"amount": 29.99},
        }
        assert uuid.UUID(generated).version == 4
        assert second["eventId"] == generated
        assert second["timestamp"] == "2026-11-26T12:00:00.000Z"
        assert server.bodies[0]["sentAt"].endswith("Z")
        assert server.headers[0]["authorization"] == "Bearer ak_test"

    def test_naive_timestamp_is_refused(self, make_client: MakeClient) -> None:
        client = make_client(FakeServer())
        with pytest.raises(ValueError, match="no time zone"):
            client.track("page_view", "u1", timestamp=datetime(2026, 1, 1))

    def test_properties_that_are_not_json_are_refused(self, make_client: MakeClient) -> None:
        client = make_client(FakeServer())
        with pytest.raises(ValueError, match="cannot be sent as JSON"):
            client.track("page_view", "u1", {"amount": float("nan")})


class TestRetries:
    def test_whole_batch_retries_keep_event_ids_and_follow_the_backoff(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        server = FakeServer(unavailable(), httpx.Response(500))
        client = make_client(server)
        ids = track_many(client, 3)
        assert client.flush(timeout_s=5)
        assert [server.event_ids(n) for n in range(3)] == [ids, ids, ids]
        assert sleeps == [1, 2]
        report = client.report()
        assert (report.delivered, report.retries, report.failed) == (3, 2, ())

    def test_every_attempt_stamps_a_fresh_sent_at(self, make_client: MakeClient) -> None:
        server = FakeServer(unavailable())
        client = make_client(server)
        client.track("page_view", "u1", timestamp=T0)
        assert client.flush(timeout_s=5)
        sent_at = [body["sentAt"] for body in server.bodies]
        assert len(set(sent_at)) == 2

    def test_retry_after_wins_when_longer_than_the_backoff(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        server = FakeServer(unavailable(5, status=429), unavailable(1))
        client = make_client(server)
        track_many(client, 1)
        assert client.flush(timeout_s=5)
        assert sleeps == [5, 2]
        assert client.report().delivered == 1

    def test_network_errors_are_retried(self, make_client: MakeClient, sleeps: list[float]) -> None:
        server = FakeServer(httpx.ConnectError("connection refused"))
        client = make_client(server)
        track_many(client, 2)
        assert client.flush(timeout_s=5)
        assert sleeps == [1]
        assert client.report().delivered == 2

    def test_gives_up_after_max_retries_and_reports_failed(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        server = FakeServer(*[unavailable()] * 10)
        client = make_client(server, max_retries=3)
        ids = track_many(client, 2)
        assert client.flush(timeout_s=5)
        assert len(server.bodies) == 4
        assert sleeps == [1, 2, 4]
        report = client.report()
        assert [failure.event_id for failure in report.failed] == ids
        assert "HTTP 503 kafka_unavailable" in report.failed[0].error
        assert report.delivered == 0

    def test_events_listed_under_retry_are_resent_alone(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        def throttle_second(body: dict[str, Any]) -> httpx.Response:
            a, b, c = (event["eventId"] for event in body["events"])
            retry = [{"index": 1, "eventId": b, "retryAfter": 3, "reason": "throttled"}]
            return httpx.Response(
                202, json={"accepted": [a, c], "duplicates": [], "rejected": [], "retry": retry}
            )

        server = FakeServer(throttle_second)
        client = make_client(server)
        ids = track_many(client, 3)
        assert client.flush(timeout_s=5)
        assert server.event_ids(1) == [ids[1]]
        assert sleeps == [3]
        report = client.report()
        assert (report.delivered, report.retries) == (3, 1)


class TestOutcomes:
    def test_duplicates_count_as_delivered_not_as_errors(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        def one_duplicate(body: dict[str, Any]) -> httpx.Response:
            a, b = (event["eventId"] for event in body["events"])
            return httpx.Response(202, json={"accepted": [a], "duplicates": [b], "rejected": []})

        client = make_client(FakeServer(one_duplicate))
        track_many(client, 2)
        assert client.flush(timeout_s=5)
        report = client.report()
        assert (report.delivered, report.duplicates, report.failed, report.rejected) == (1, 1, (), ())
        assert sleeps == []

    def test_a_409_answer_counts_as_duplicates(self, make_client: MakeClient) -> None:
        server = FakeServer(httpx.Response(409, json={"error": "duplicate", "message": "already accepted"}))
        client = make_client(server)
        track_many(client, 1)
        assert client.flush(timeout_s=5)
        assert (client.report().duplicates, client.report().failed, len(server.bodies)) == (1, (), 1)

    def test_rejected_events_are_reported_and_not_retried(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        def reject_second(body: dict[str, Any]) -> httpx.Response:
            a, b = (event["eventId"] for event in body["events"])
            errors = [{"field": "eventType", "message": "must match ^[a-z][a-z0-9_]{0,63}$"}]
            rejected = [{"index": 1, "eventId": b, "errors": errors}]
            return httpx.Response(202, json={"accepted": [a], "duplicates": [], "rejected": rejected})

        server = FakeServer(reject_second)
        client = make_client(server)
        ok = client.track("page_view", "u1")
        bad = client.track("Bad-Type", "u1")
        assert client.flush(timeout_s=5)
        report = client.report()
        assert len(server.bodies) == 1
        assert sleeps == []
        assert report.delivered == 1
        assert [(r.event_id, r.index, r.errors[0].field) for r in report.rejected] == [(bad, 1, "eventType")]
        assert ok not in {r.event_id for r in report.rejected}

    def test_an_invalid_envelope_rejects_the_whole_batch(self, make_client: MakeClient) -> None:
        body = {
            "error": "invalid_batch",
            "message": "invalid",
            "errors": [{"field": "sentAt", "message": "bad"}],
        }
        server = FakeServer(httpx.Response(400, json=body))
        client = make_client(server)
        ids = track_many(client, 2)
        assert client.flush(timeout_s=5)
        assert len(server.bodies) == 1
        assert [(r.event_id, r.errors[0].field) for r in client.report().rejected] == [
            (ids[0], "sentAt"),
            (ids[1], "sentAt"),
        ]

    def test_an_unknown_api_key_fails_without_retrying(
        self, make_client: MakeClient, sleeps: list[float]
    ) -> None:
        server = FakeServer(httpx.Response(401, json={"error": "unauthorized", "message": "unknown API key"}))
        client = make_client(server)
        track_many(client, 1)
        assert client.flush(timeout_s=5)
        assert (len(server.bodies), sleeps) == (1, [])
        assert "HTTP 401 unauthorized" in client.report().failed[0].error

    def test_events_missing_from_the_answer_are_failed_not_lost(self, make_client: MakeClient) -> None:
        server = FakeServer(httpx.Response(202, json={"accepted": [], "duplicates": [], "rejected": []}))
        client = make_client(server)
        ids = track_many(client, 2)
        assert client.flush(timeout_s=5)
        assert [failure.event_id for failure in client.report().failed] == ids

    def test_on_result_gets_each_batch_from_the_worker_thread(self, make_client: MakeClient) -> None:
        outcomes: list[tuple[int, str]] = []

        def on_result(outcome: BatchOutcome) -> None:
            outcomes.append((outcome.size, threading.current_thread().name))

        client = make_client(FakeServer(), batch_size=2, on_result=on_result)
        track_many(client, 5)
        assert client.flush(timeout_s=5)
        assert [size for size, _ in outcomes] == [2, 2, 1]
        assert {name for _, name in outcomes} == {"analytics-sdk-sender-0"}

    def test_two_senders_keep_two_batches_in_flight(self, make_client: MakeClient) -> None:
        inside, most_inside, lock, gate = [0], [0], threading.Lock(), threading.Event()

        def slow_answer(body: dict[str, Any]) -> httpx.Response:
            with lock:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            gate.wait(0.5)  # long enough for the other sender to enter, if it can
            with lock:
                inside[0] -= 1
            return accept_all(body)

        client = make_client(FakeServer(*[slow_answer] * 3), batch_size=2, senders=2)
        track_many(client, 6)
        assert client.flush(timeout_s=10)
        gate.set()
        assert client.report().delivered == 6
        assert most_inside[0] == 2


class TestLifecycle:
    def test_flush_times_out_while_the_server_hangs(self, make_client: MakeClient) -> None:
        server = FakeServer()
        server.gate = threading.Event()
        client = make_client(server)
        track_many(client, 1)
        assert client.flush(timeout_s=0.05) is False
        server.gate.set()
        assert client.flush(timeout_s=5)
        assert client.report().delivered == 1

    def test_close_delivers_what_is_queued_then_refuses_new_events(self, make_client: MakeClient) -> None:
        server = FakeServer()
        client = make_client(server)
        track_many(client, 2)
        assert client.close(timeout_s=5)
        assert server.batch_sizes == [2]
        with pytest.raises(RuntimeError, match="closed"):
            client.track("page_view", "u1")

    def test_context_manager_closes(self) -> None:
        server = FakeServer()
        with AnalyticsClient("ak_test", transport=httpx.MockTransport(server), flush_interval_s=60) as client:
            client.track("page_view", "u1")
        assert server.batch_sizes == [1]

    def test_full_queue_blocks_then_raises(self, make_client: MakeClient) -> None:
        server = FakeServer()
        server.gate = threading.Event()
        client = make_client(server, batch_size=1, max_queue_size=2, timeout_s=0.05)
        client.track("page_view", "u0")
        assert server.entered.wait(2)  # the worker holds the first event; the queue is empty again
        client.track("page_view", "u1")
        client.track("page_view", "u2")
        with pytest.raises(QueueFullError, match="max_queue_size"):
            client.track("page_view", "u3")
        server.gate.set()
        assert client.flush(timeout_s=5)
        assert client.report().delivered == 3
