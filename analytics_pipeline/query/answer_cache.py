"""Cache-aside of answers computed from the lake, in Redis under ``query:{hash}`` (the design's
query cache). The hash covers what the answer was computed from, table versions included, so a
new ETL run is never hidden behind an answer computed before it. Redis down: every lookup misses
and nothing is stored; the caller computes the answer from the lake."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

from analytics_pipeline.redis_guard import GuardedRedis, RedisUnavailable


def answer_key(*material: Any) -> str:
    """``query:{sha256}`` of the JSON of ``material`` (which must say everything the answer depends on)."""
    encoded = json.dumps(material, separators=(",", ":"), default=str)
    return f"query:{hashlib.sha256(encoded.encode()).hexdigest()}"


class AnswerCache:
    def __init__(self, redis: GuardedRedis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def get(self, key: str) -> Any | None:
        """The stored answer, or None on a miss or when Redis does not answer."""
        try:
            stored = await self.redis.run(lambda client: client.get(key))
        except RedisUnavailable:
            return None
        return None if stored is None else json.loads(stored)

    async def put(self, key: str, answer: Any) -> None:
        body = json.dumps(answer, separators=(",", ":"))
        with contextlib.suppress(RedisUnavailable):  # answered uncached; the next call computes it
            await self.redis.run(lambda client: client.set(key, body, ex=self.ttl_s))
