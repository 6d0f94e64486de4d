"""Rate limits per project, and optionally per eventType and per userId, kept in Redis.

Backed by the ``limits`` library (sliding-window counters). Like deduplication it fails open:
with Redis away, nothing is throttled.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from analytics_pipeline.redis_guard import (
    GuardedRedis,
    RedisUnavailable,
    redis_client_options,
)
from analytics_pipeline.settings import Settings


class RateLimits:
    def __init__(self, settings: Settings, redis: GuardedRedis) -> None:
        storage = RedisStorage(
            "async+" + settings.redis_url,
            implementation="redispy",
            key_prefix="ratelimit",
            **redis_client_options(settings),
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._redis = redis
        self._project = parse(settings.rate_limit_project)
        self._event_type = parse(settings.rate_limit_event_type) if settings.rate_limit_event_type else None
        self._user = parse(settings.rate_limit_user) if settings.rate_limit_user else None

    async def project_retry_after(self, project_id: str, cost: int) -> int | None:
        """Seconds to wait if the project is over its limit for ``cost`` more events, else None."""
        return await self._hit(self._project, cost, "project", project_id)

    async def throttled_events(
        self, project_id: str, event_types: Sequence[str], user_ids: Sequence[str]
    ) -> dict[int, int]:
        """Index -> Retry-After for events over their per-eventType or per-userId limit."""
        throttled: dict[int, int] = {}
        for limit, scope, values in (
            (self._event_type, "event_type", event_types),
            (self._user, "user", user_ids),
        ):
            if limit is None:
                continue
            for value, cost in Counter(values).items():
                retry_after = await self._hit(limit, cost, scope, project_id, value)
                if retry_after is not None:
                    for index, candidate in enumerate(values):
                        if candidate == value:
                            throttled[index] = max(throttled.get(index, 0), retry_after)
        return throttled

    async def _hit(self, limit: RateLimitItem, cost: int, *identifiers: str) -> int | None:
        cost = min(cost, limit.amount)  # a batch larger than the limit passes when the window is empty
        try:
            allowed = await self._redis.run(lambda _client: self._limiter.hit(limit, *identifiers, cost=cost))
            if allowed:
                return None
            stats = await self._redis.run(lambda _client: self._limiter.get_window_stats(limit, *identifiers))
        except RedisUnavailable:
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))
