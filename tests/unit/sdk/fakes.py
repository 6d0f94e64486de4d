"""The SDK tests' scripted fake server, fake clock and helpers (httpx.MockTransport; no real
sleeping)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from analytics_pipeline.sdk import AnalyticsClient

Answer = httpx.Response | Callable[[dict[str, Any]], httpx.Response]
MakeClient = Callable[..., AnalyticsClient]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def accept_all(body: dict[str, Any]) -> httpx.Response:
    ids = [event["eventId"] for event in body["events"]]
    return httpx.Response(202, json={"accepted": ids, "duplicates": [], "rejected": []})


def unavailable(retry_after: int | None = None, status: int = 503) -> httpx.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return httpx.Response(status, json={"error": "kafka_unavailable", "message": "retry"}, headers=headers)


class FakeServer:
    """Answers ``/v1/batch`` with the scripted answers in turn, then accepts everything."""

    def __init__(self, *answers: Answer | Exception) -> None:
        self.answers = list(answers)
        self.bodies: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        self.headers: list[httpx.Headers] = []
        self.gate: threading.Event | None = None  # when set up, requests wait for it
        self.entered = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/batch"
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        body = json.loads(request.content)
        self.bodies.append(body)
        self.sizes.append(len(request.content))
        self.headers.append(request.headers)
        answer = self.answers.pop(0) if self.answers else accept_all
        if isinstance(answer, Exception):
            raise answer
        return answer(body) if callable(answer) else answer

    def event_ids(self, request: int) -> list[str]:
        return [event["eventId"] for event in self.bodies[request]["events"]]

    @property
    def batch_sizes(self) -> list[int]:
        return [len(body["events"]) for body in self.bodies]


class FakeClock:
    """Advances one second per reading, so every sentAt differs."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return T0 + timedelta(seconds=self.readings)


def track_many(client: AnalyticsClient, count: int, **properties: Any) -> list[str]:
    return [client.track("page_view", f"user-{i}", properties) for i in range(count)]
