"""The collaborators of one query-service process, built at start-up and closed at shutdown."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.query.metric_request import MetricRequest
from analytics_pipeline.query.realtime_reader import WindowValue, read_windows, retained_from
from analytics_pipeline.redis_guard import GuardedRedis, RedisUnavailable
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from analytics_pipeline.web.auth import ApiKeyResolver
from analytics_pipeline.web.errors import ApiError


class MetricsFallback(Protocol):
    """Where windows come from that Redis no longer holds (the lakehouse, in the query-service issue)."""

    async def windows(
        self, project_id: str, request: MetricRequest, starts: list[datetime]
    ) -> list[WindowValue]: ...


class QueryService:
    def __init__(self, settings: Settings, fallback: MetricsFallback | None = None) -> None:
        self.settings = settings
        self.store = MetadataStore(settings.metadata_database_url)
        self.redis = GuardedRedis.from_settings(settings)
        self.auth = ApiKeyResolver(self.store, settings.api_key_cache_ttl_s)
        self.fallback = fallback

    async def metric_windows(
        self, project_id: str, request: MetricRequest
    ) -> tuple[list[WindowValue], str, datetime]:
        """The windows of the request, zero-filled, with their source and where Redis retention starts.

        Windows older than the retention are zeros from Redis unless a fallback answers for them.
        """
        starts = request.window_starts
        retained = retained_from(utc_now(), request.granularity, self.settings.metric_ttl_windows)
        try:
            values = await self.redis.run(
                lambda client: read_windows(client, project_id, request.metric, request.granularity, starts)
            )
        except RedisUnavailable as exc:
            raise ApiError(
                503, "unavailable", f"real-time metrics are unavailable: {exc}", retry_after_s=5
            ) from exc
        expired = [start for start in starts if start < retained]
        if not expired or self.fallback is None:
            return values, "cache", retained
        older = await self.fallback.windows(project_id, request, expired)
        return older + values[len(expired) :], "cache+lakehouse", retained

    async def close(self) -> None:
        await self.redis.close()
        self.store.close()
