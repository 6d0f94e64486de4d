"""Per-project JSON Schemas for event properties, cached the way the design says.

Lookup order: an in-process cache (a few seconds, so new versions apply quickly), then Redis
(``schema:{project}:{type}:latest`` holds the current version or NOT_FOUND for 1 h;
``schema:{project}:{type}:{version}`` holds the schema for 24 h), then the metadata store.
With Redis down the store answers directly.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from cachetools import TTLCache

from analytics_pipeline.events.property_schema import CompiledSchema, compile_schema
from analytics_pipeline.metadata.store import MetadataStore, StoredSchema
from analytics_pipeline.redis_guard import GuardedRedis, RedisUnavailable
from analytics_pipeline.settings import Settings

NOT_FOUND = "NOT_FOUND"
_MISSING: Any = object()  # tells a cached None ("no schema") from no entry


def schema_key(project_id: str, event_type: str, version: int | str) -> str:
    return f"schema:{project_id}:{event_type}:{version}"


def latest_pointer_key(project_id: str, event_type: str) -> str:
    return schema_key(project_id, event_type, "latest")


async def publish_schema(redis: GuardedRedis, stored: StoredSchema, settings: Settings) -> None:
    """Write a newly registered version through to Redis so services see it immediately."""
    pid, etype = stored.project_id, stored.event_type

    async def write(client: Any) -> None:
        async with client.pipeline(transaction=True) as pipe:
            pipe.set(
                schema_key(pid, etype, stored.version),
                json.dumps(stored.json_schema),
                ex=settings.schema_cache_ttl_s,
            )
            pipe.set(latest_pointer_key(pid, etype), str(stored.version), ex=settings.schema_miss_ttl_s)
            await pipe.execute()

    await redis.run(write)


class SchemaRegistry:
    def __init__(self, store: MetadataStore, redis: GuardedRedis, settings: Settings) -> None:
        self._store = store
        self._redis = redis
        self._settings = settings
        self._current: TTLCache[tuple[str, str], CompiledSchema | None] = TTLCache(
            maxsize=10_000, ttl=settings.schema_local_ttl_s
        )
        self._compiled: TTLCache[tuple[str, str, int], CompiledSchema] = TTLCache(
            maxsize=5_000, ttl=settings.schema_cache_ttl_s
        )

    async def current(self, project_id: str, event_type: str) -> CompiledSchema | None:
        """The schema events of this type must satisfy, or None when none is registered."""
        key = (project_id, event_type)
        # One lookup: "in" then "get" could straddle the expiry and read a stale None as "no schema".
        cached = self._current.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        try:
            schema = await self._from_redis(project_id, event_type)
        except RedisUnavailable:
            stored = await asyncio.to_thread(self._store.latest_schema, project_id, event_type)
            schema = self._compile(stored) if stored else None
        self._current[key] = schema
        return schema

    async def _from_redis(self, project_id: str, event_type: str) -> CompiledSchema | None:
        pointer = await self._redis.run(lambda c: c.get(latest_pointer_key(project_id, event_type)))
        if pointer == NOT_FOUND.encode():
            return None
        if pointer is not None:
            version = int(pointer)
            cached = self._compiled.get((project_id, event_type, version))
            if cached is not None:
                return cached
            body = await self._redis.run(lambda c: c.get(schema_key(project_id, event_type, version)))
            if body is not None:
                return self._compile(StoredSchema(project_id, event_type, version, json.loads(body)))
        stored = await asyncio.to_thread(self._store.latest_schema, project_id, event_type)
        if stored is None:
            await self._redis.run(
                lambda c: c.set(
                    latest_pointer_key(project_id, event_type), NOT_FOUND, ex=self._settings.schema_miss_ttl_s
                )
            )
            return None
        await publish_schema(self._redis, stored, self._settings)
        return self._compile(stored)

    def _compile(self, stored: StoredSchema) -> CompiledSchema:
        key = (stored.project_id, stored.event_type, stored.version)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledSchema(stored.version, compile_schema(stored.json_schema))
            self._compiled[key] = compiled
        return compiled
