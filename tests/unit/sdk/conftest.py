"""The SDK tests' fixtures: a client factory over the fake server, and the sleeps it asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from analytics_pipeline.sdk import AnalyticsClient
from tests.unit.sdk.fakes import FakeClock, FakeServer, MakeClient


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[MakeClient]:
    clients: list[AnalyticsClient] = []

    def make(server: FakeServer, **options: Any) -> AnalyticsClient:
        options.setdefault("flush_interval_s", 60.0)  # only size, flush and close trigger a send
        options.setdefault("senders", 1)  # the scripted answers go to the batches in order
        options.setdefault("clock", FakeClock())
        client = AnalyticsClient(
            "ak_test",
            "http://ingest.test",
            transport=httpx.MockTransport(server),
            sleep=sleeps.append,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        assert client.close(timeout_s=5)
