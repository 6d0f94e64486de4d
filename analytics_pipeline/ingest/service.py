"""The collaborators of one ingestion process, built once at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

from analytics_pipeline.events.envelope import TimeWindow
from analytics_pipeline.ingest.dedup import Deduplicator
from analytics_pipeline.ingest.metrics import IngestMetrics
from analytics_pipeline.ingest.pipeline import IngestPipeline
from analytics_pipeline.ingest.ratelimit import RateLimits
from analytics_pipeline.ingest.refusals import RefusalExplainer
from analytics_pipeline.ingest.schemas import SchemaRegistry
from analytics_pipeline.ingest.topic_guard import TopicGuard
from analytics_pipeline.ingest.undecided import UndecidedEvents
from analytics_pipeline.kafka_io.producer import AckedProducer, delivery_timeout_s
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.redis_guard import GuardedRedis
from analytics_pipeline.settings import Settings
from analytics_pipeline.web.auth import ApiKeyResolver
from analytics_pipeline.web.errors import ApiError
from analytics_pipeline.web.prometheus import several_workers

_GAUGE_REFRESH_S = 1.0  # how old a worker's gauges may be on /metrics


class IngestService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = MetadataStore(settings.metadata_database_url)
        self.redis = GuardedRedis.from_settings(settings)
        self.producer = AckedProducer.from_settings(settings)
        self.metrics = IngestMetrics(
            breaker_state=lambda: float(self.redis.breaker.state),
            producer_replacements=lambda: float(self.producer.replacements),
        )
        self.auth = ApiKeyResolver(self.store, settings.api_key_cache_ttl_s)
        self.limits = RateLimits(settings, self.redis)
        # A claim outlives the longest request (topic check + produce) and the producer's hold on
        # an event answered 503 (settled later, see IngestPipeline._settle_later), then frees itself.
        settle_timeout_s = delivery_timeout_s(settings) + 5
        pending_ttl_s = math.ceil(settings.kafka_produce_timeout_s + settle_timeout_s) + 10
        dedup = Deduplicator(self.redis, settings.dedup_ttl_s, pending_ttl_s)
        # When the producer outlasts the HTTP wait (a cluster), a record it gave up on may still be
        # committed later: the log is asked before its claim is released.
        keeps_longer = delivery_timeout_s(settings) > settings.kafka_produce_timeout_s
        self.pipeline = IngestPipeline(
            producer=self.producer,
            dedup=dedup,
            undecided=UndecidedEvents(settings.kafka_bootstrap_servers, dedup) if keeps_longer else None,
            settle_timeout_s=settle_timeout_s,
            schemas=SchemaRegistry(self.store, self.redis, settings),
            limits=self.limits,
            topics=TopicGuard(settings),
            refusals=RefusalExplainer(settings),
            metrics=self.metrics,
            window=TimeWindow(
                max_future=timedelta(seconds=settings.max_future_skew_s),
                max_age=timedelta(seconds=settings.max_event_age_s),
            ),
        )

        self._gauges = asyncio.create_task(self._refresh_gauges()) if several_workers() else None

    async def _refresh_gauges(self) -> None:
        while True:
            self.metrics.refresh_gauges()
            await asyncio.sleep(_GAUGE_REFRESH_S)

    async def close(self) -> None:
        if self._gauges is not None:
            self._gauges.cancel()
        await asyncio.to_thread(self.producer.close)
        await self.redis.close()
        self.store.close()

    async def check_project_rate(self, project_id: str, cost: int) -> None:
        retry_after = await self.limits.project_retry_after(project_id, cost)
        if retry_after is not None:
            message = f"project {project_id} is over its rate limit"
            raise ApiError(429, "rate_limited", message, retry_after_s=retry_after)
