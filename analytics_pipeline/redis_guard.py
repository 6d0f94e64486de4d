"""Redis access that never makes a request wait on a dead Redis.

Every call has a 1 s socket timeout and no client-side retries, and runs under a failure-rate
circuit breaker; callers receive ``RedisUnavailable`` and decide how to degrade (fail open).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from analytics_pipeline.resilience.breaker import CircuitOpenError, FailureRateBreaker
from analytics_pipeline.settings import Settings

T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis failed, timed out, or its circuit is open."""


def redis_client_options(settings: Settings) -> dict[str, Any]:
    """Connection options shared by every Redis client of the services (incl. the rate limiter)."""
    return {
        "socket_timeout": settings.redis_timeout_s,
        "socket_connect_timeout": settings.redis_timeout_s,
        # redis-py retries three times by default, which would multiply the timeout.
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
    }


def build_breaker(settings: Settings, name: str = "redis") -> FailureRateBreaker:
    return FailureRateBreaker(
        name,
        failure_ratio=settings.breaker_failure_ratio,
        window_s=settings.breaker_window_s,
        min_calls=settings.breaker_min_calls,
        reset_timeout_s=settings.breaker_reset_timeout_s,
    )


class GuardedRedis:
    """One async Redis client plus the breaker that decides whether to call it."""

    def __init__(self, client: aioredis.Redis, breaker: FailureRateBreaker) -> None:
        self.client = client
        self.breaker = breaker

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardedRedis:
        client = aioredis.Redis.from_url(settings.redis_url, **redis_client_options(settings))
        return cls(client, build_breaker(settings))

    async def run(self, operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        try:
            return await self.breaker.call(lambda: operation(self.client))
        except CircuitOpenError as exc:
            raise RedisUnavailable(str(exc)) from exc
        except (RedisError, OSError, TimeoutError) as exc:
            raise RedisUnavailable(f"redis call failed: {exc}") from exc

    async def close(self) -> None:
        await self.client.aclose()
