"""A Redis client on the session's Redis, and a project of each test's own whose keys are removed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis


@pytest.fixture
def client(redis_server, stack_settings) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(stack_settings.redis_url)
    yield connection
    connection.close()


@pytest.fixture
def project_id(client) -> Iterator[str]:
    """A project of the test's own; its keys are removed afterwards (Redis is shared, never flushed)."""
    project = f"agg-{uuid.uuid4().hex[:8]}"
    yield project
    for pattern in (f"metric:{project}:*", f"processed:{project}:*", f"types:{project}:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
