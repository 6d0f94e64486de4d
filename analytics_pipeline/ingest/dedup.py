"""Ingest-side deduplication in two phases, so that a 409 is never a lie.

1. claim: ``SET event:{project}:{eventId} pending NX GET`` with a short TTL. Whoever sets it
   owns the event; a later request sees ``pending`` (in flight: retry soon) or ``accepted``.
2. after Kafka acknowledged: ``SET ... accepted XX`` with the 24 h TTL (confirm); after Kafka
   refused: delete (release), so the client's retry is accepted.

A naive one-phase claim answers 409 to a client that retries while the first attempt is still
waiting for Kafka; if that attempt then fails, the event is lost. Redis down means fail open:
events are accepted unclaimed and the downstream consumers remove the rare duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from analytics_pipeline.group_commit import GroupCommit
from analytics_pipeline.redis_guard import GuardedRedis, RedisUnavailable

PENDING = b"pending"
ACCEPTED = b"accepted"


class Claim(Enum):
    NEW = "new"  # this request owns the event
    ACCEPTED = "accepted"  # Kafka has it already: a duplicate
    IN_FLIGHT = "in_flight"  # another request is writing it: retry shortly


def dedup_key(project_id: str, event_id: str) -> str:
    return f"event:{project_id}:{event_id}"


# One script call per group of claims (or overwrites) rather than one command per event: for
# redis-py, writing and reading a command costs more than the command costs Redis. The keys of a
# group belong to many projects, so a Redis Cluster would refuse these calls; the pipeline runs
# one Redis (sized in docs/redis-dedup-sizing.md).
_CLAIM = """
local previous = {}
for i, key in ipairs(KEYS) do
  previous[i] = redis.call('SET', key, ARGV[1], 'NX', 'GET', 'EX', ARGV[2])
end
return previous
"""
_OVERWRITE = """
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[2 * i - 1], 'XX', 'EX', ARGV[2 * i])
end
return #KEYS
"""


class Deduplicator:
    """Claims and overwrites of concurrent requests go to Redis together (group commit), each
    group as one script call."""

    def __init__(self, redis: GuardedRedis, ttl_s: int, pending_ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._pending_ttl_s = pending_ttl_s
        self._claims: GroupCommit[str, bytes | None] = GroupCommit(self._claim_keys)
        self._overwrites: GroupCommit[tuple[str, bytes, int], object] = GroupCommit(self._overwrite_keys)
        self._claim_script = redis.client.register_script(_CLAIM)
        self._overwrite_script = redis.client.register_script(_OVERWRITE)

    async def claim(self, project_id: str, event_ids: Sequence[str]) -> list[Claim] | None:
        """One Claim per id, or None when Redis is unavailable (fail open)."""
        try:
            previous = await self._claims.submit([dedup_key(project_id, event_id) for event_id in event_ids])
        except RedisUnavailable:
            return None
        return [
            Claim.NEW if old is None else Claim.IN_FLIGHT if old == PENDING else Claim.ACCEPTED
            for old in previous
        ]

    async def _claim_keys(self, keys: list[str]) -> list[bytes | None]:
        args = [PENDING, self._pending_ttl_s]
        return await self._redis.run(lambda _client: self._claim_script(keys=keys, args=args))

    async def confirm(self, project_id: str, event_ids: Sequence[str]) -> bool:
        """Mark acknowledged events as accepted for the full dedup window."""
        return await self._overwrite(project_id, event_ids, ACCEPTED, self._ttl_s)

    async def hold(self, project_id: str, event_ids: Sequence[str]) -> bool:
        """Keep pending claims pending another full pending TTL (their event is undecided yet)."""
        return await self._overwrite(project_id, event_ids, PENDING, self._pending_ttl_s)

    async def _overwrite(self, project_id: str, event_ids: Sequence[str], value: bytes, ttl_s: int) -> bool:
        """Set existing claims (never create one) to ``value`` for ``ttl_s``; False if Redis
        could not be told."""
        try:
            await self._overwrites.submit([(dedup_key(project_id, e), value, ttl_s) for e in event_ids])
        except RedisUnavailable:
            return False
        return True

    async def _overwrite_keys(self, writes: list[tuple[str, bytes, int]]) -> list[object]:
        keys = [key for key, _value, _ttl_s in writes]
        args = [part for _key, value, ttl_s in writes for part in (value, ttl_s)]
        await self._redis.run(lambda _client: self._overwrite_script(keys=keys, args=args))
        return [None] * len(writes)

    async def release(self, project_id: str, event_ids: Sequence[str]) -> bool:
        """Forget claims of events Kafka did not take; False if Redis could not be told."""
        if not event_ids:
            return True
        keys = [dedup_key(project_id, event_id) for event_id in event_ids]
        return await self._quietly(lambda client: client.delete(*keys))

    async def _quietly(self, operation: Any) -> bool:
        try:
            await self._redis.run(operation)
        except RedisUnavailable:
            return False
        return True
