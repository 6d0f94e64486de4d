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

from analytics_pipeline.group_commit import GroupCommit
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
        self._project_hits: GroupCommit[tuple[str, int], int | None] = GroupCommit(self._hit_projects)

    async def project_retry_after(self, project_id: str, cost: int) -> int | None:
        """Seconds to wait if the project is over its limit for ``cost`` more events, else None."""
        (retry_after,) = await self._project_hits.submit([(project_id, cost)])
        return retry_after

    async def _hit_projects(self, requests: list[tuple[str, int]]) -> list[int | None]:
        """The project limits of concurrent requests (group commit): one hit per project for
        the group's total cost, which passes whenever each request would have passed in turn;
        when it does not, each request is hit on its own, so the answers are exactly those of
        one hit per request."""
        totals: dict[str, int] = {}
        shared = Counter(project_id for project_id, _cost in requests)
        for project_id, cost in requests:
            totals[project_id] = totals.get(project_id, 0) + min(cost, self._project.amount)
        passed = {
            project_id
            for project_id, total in totals.items()
            if shared[project_id] > 1
            and total <= self._project.amount
            and await self._hit(self._project, total, "project", project_id) is None
        }
        return [
            None if project_id in passed else await self._hit(self._project, cost, "project", project_id)
            for project_id, cost in requests
        ]

    async def throttled_events(
        self, project_id: str, event_types: Sequence[str], user_ids: Sequence[str]
    ) -> dict[int, int]:
        """Index -> Retry-After for events over their per-eventType or per-userId limit. In a
        batch as in single requests: of the events sharing a type (or a user), those the window
        still has room for pass, in order, and the rest are throttled; an event over its type's
        limit does not spend its user's budget."""
        throttled: dict[int, int] = {}
        for limit, scope, values in (
            (self._event_type, "event_type", event_types),
            (self._user, "user", user_ids),
        ):
            if limit is None:
                continue
            waiting: dict[str, list[int]] = {}
            for index, value in enumerate(values):
                if index not in throttled:
                    waiting.setdefault(value, []).append(index)
            for value, indexes in waiting.items():
                taken, retry_after = await self._take(limit, len(indexes), scope, project_id, value)
                for index in indexes[taken:]:
                    throttled[index] = retry_after
        return throttled

    async def _hit(self, limit: RateLimitItem, cost: int, *identifiers: str) -> int | None:
        """The project's load shedding: all or nothing. A request larger than the limit is
        counted as the limit, so that it passes when the window is empty."""
        cost = min(cost, limit.amount)
        try:
            allowed = await self._redis.run(lambda _client: self._limiter.hit(limit, *identifiers, cost=cost))
            if allowed:
                return None
            stats = await self._redis.run(lambda _client: self._limiter.get_window_stats(limit, *identifiers))
        except RedisUnavailable:
            return None
        return _seconds_until(stats.reset_time)

    async def _take(self, limit: RateLimitItem, wanted: int, *identifiers: str) -> tuple[int, int]:
        """How many of ``wanted`` events the window has room for (they are counted), and the
        Retry-After of the others. Redis away: all pass (fail open)."""
        try:
            if await self._redis.run(lambda _client: self._limiter.hit(limit, *identifiers, cost=wanted)):
                return wanted, 0
            stats = await self._redis.run(lambda _client: self._limiter.get_window_stats(limit, *identifiers))
            room = min(wanted, stats.remaining)
            if room and not await self._redis.run(
                lambda _client: self._limiter.hit(limit, *identifiers, cost=room)
            ):
                room = 0  # another request took the room meanwhile: none of these pass
        except RedisUnavailable:
            return wanted, 0
        return room, _seconds_until(stats.reset_time)


def _seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))
