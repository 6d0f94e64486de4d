"""The collaborators of one query-service process, built at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import TTLCache

from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.s3a import delta_rs_storage_options, is_s3a
from analytics_pipeline.metadata.event_index import EventIndex, IndexedEvent
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.objectstore.endpoint import s3_endpoint
from analytics_pipeline.operations.status import StatusReport, collect_project
from analytics_pipeline.query.answer_cache import AnswerCache, answer_key
from analytics_pipeline.query.event_lookup import NOT_YET, LakeWhereabouts, event_days, in_lake
from analytics_pipeline.query.freshness import FreshnessCache, KafkaProgress
from analytics_pipeline.query.lake_metrics import lake_windows
from analytics_pipeline.query.lake_views import LakeTableMissing, ProjectLake
from analytics_pipeline.query.metric_request import MetricRequest
from analytics_pipeline.query.metrics import QueryMetrics
from analytics_pipeline.query.overload import LakeGate
from analytics_pipeline.query.realtime_reader import WindowValue, read_live_types, read_windows, retained_from
from analytics_pipeline.query.sql_engine import DuckDbEngine, QueryLimits
from analytics_pipeline.query.sql_service import SqlEngine, SqlService
from analytics_pipeline.realtime.layout import TYPES_GRANULARITY, processed_key
from analytics_pipeline.realtime.windows import format_window, window_starts
from analytics_pipeline.redis_guard import GuardedRedis, RedisUnavailable
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from analytics_pipeline.web.auth import ApiKeyResolver

CACHE, WAREHOUSE, MIXED = "cache", "warehouse", "mixed"
_HEALTH_TTL_S = 5.0  # how old a project's health may be: every open console asks every 10 s
EVENTS, QUARANTINE = frozenset({"events"}), frozenset({"quarantined_events"})


@dataclass(frozen=True)
class EventWhereabouts:
    indexed: IndexedEvent | None  # None: older than the index's retention, or not indexed yet
    counted: bool | None  # the stream worker's mark (24 h); None when Redis does not answer
    position: str | None  # partition@offset of the record the worker counted
    lake: LakeWhereabouts


@dataclass(frozen=True)
class MetricAnswer:
    values: list[WindowValue]
    sources: list[str]  # per window: CACHE (Redis) or WAREHOUSE (the lake)
    retained_from: datetime
    cached: bool  # the warehouse's windows came from the query cache, not the lake

    @property
    def source(self) -> str:
        distinct = set(self.sources)
        return distinct.pop() if len(distinct) == 1 else MIXED


def sql_engine(settings: Settings, lake: ProjectLake, limits: QueryLimits) -> SqlEngine:
    """DuckDB by default; Spark SQL when configured (imported only then: it starts a JVM)."""
    if settings.query_engine == "spark":
        from analytics_pipeline.query.spark_engine import SparkSqlEngine  # noqa: PLC0415 - see above

        return SparkSqlEngine(settings, lake, limits)
    return DuckDbEngine(lake, limits)


class QueryService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = MetadataStore(settings.metadata_database_url)
        self.redis = GuardedRedis.from_settings(settings)
        self.auth = ApiKeyResolver(self.store, settings.api_key_cache_ttl_s)
        self.metrics = QueryMetrics(breaker_state=lambda: float(self.redis.breaker.state))
        self.index = EventIndex(settings.metadata_database_url)
        storage = delta_rs_storage_options(s3_endpoint(settings)) if is_s3a(settings.lake_root) else None
        self.lake = ProjectLake(LakeTables(settings.lake_root), storage_options=storage)
        self.gate = LakeGate(settings.query_lake_slots, settings.query_queue_wait_s)
        self.limits = QueryLimits(settings.query_time_limit_s, settings.query_max_rows)
        self.answers = AnswerCache(self.redis, settings.query_cache_ttl_s)
        engine = sql_engine(settings, self.lake, self.limits)
        self.sql = SqlService(self.lake, engine, self.answers, self.gate)
        self.progress = KafkaProgress(
            settings.kafka_bootstrap_servers,
            settings.etl_group,
            margin=timedelta(seconds=settings.kafka_produce_timeout_s),
        )
        self.freshness = FreshnessCache(self.progress.complete_up_to)
        self._health: TTLCache[str, StatusReport] = TTLCache(maxsize=1_000, ttl=_HEALTH_TTL_S)

    async def lake_complete_up_to(self, project_id: str) -> datetime | None:
        return await asyncio.to_thread(self.freshness.get, project_id)

    async def metric_windows(self, project_id: str, request: MetricRequest) -> MetricAnswer:
        """The windows of the request: from Redis where it holds them, from the lake where it no
        longer does (expired) or cannot answer (down). The lake's windows are cached like a SQL
        answer, keyed by the events table's version."""
        starts = request.window_starts
        retained = retained_from(utc_now(), request.granularity, self.settings.metric_ttl_windows)
        kept = [start for start in starts if start >= retained]
        try:
            recent = await self.redis.run(
                lambda client: read_windows(client, project_id, request.metric, request.granularity, kept)
            )
        except RedisUnavailable:
            kept, recent = [], []
        from_redis = {value.start: value for value in recent}
        missing = [start for start in starts if start not in from_redis]
        lake_values, cached = await self._lake_windows(project_id, request, missing)
        from_lake = {value.start: value for value in lake_values}
        values = [from_redis.get(start) or from_lake[start] for start in starts]
        sources = [CACHE if start in from_redis else WAREHOUSE for start in starts]
        for source in sources:
            self.metrics.windows.labels(source).inc()
        return MetricAnswer(values, sources, retained, cached)

    async def project_health(self, project_id: str) -> StatusReport:
        """What Kafka says of the project's topics and dead letters (blocking reads, cached)."""
        report = self._health.get(project_id)
        if report is None:
            report = await asyncio.to_thread(collect_project, self.settings, project_id)
            self._health[project_id] = report
        return report

    async def lake_written(self) -> dict[str, datetime | None]:
        """When each lake table the queries read was last committed to, by its table name."""

        def read() -> dict[str, datetime | None]:
            return {
                source.path.rstrip("/").rsplit("/", 1)[-1]: self.lake.last_written(name)
                for name, source in self.lake.sources.items()
            }

        return await asyncio.to_thread(read)

    async def live_types(self, project_id: str, start: datetime, end: datetime, limit: int) -> list[str]:
        """The busiest eventTypes Redis counted in the hours of [start, end); none when Redis is
        away (the totals still come from the lake)."""
        hours = window_starts(start, end, TYPES_GRANULARITY)
        try:
            return await self.redis.run(lambda client: read_live_types(client, project_id, hours, limit))
        except RedisUnavailable:
            return []

    async def _lake_windows(
        self, project_id: str, request: MetricRequest, starts: list[datetime]
    ) -> tuple[list[WindowValue], bool]:
        """The windows from the lake, and whether they came from the query cache."""
        if not starts:
            return [], False
        try:
            versions = await asyncio.to_thread(self.lake.versions, EVENTS)
        except LakeTableMissing:
            return [WindowValue(start, 0, 0) for start in starts], False
        key = answer_key(
            project_id,
            request.metric,
            str(request.granularity),
            [format_window(start) for start in starts],
            sorted(versions.items()),
        )
        cached = await self.answers.get(key)
        if cached is not None:
            return [WindowValue(start, *pair) for start, pair in zip(starts, cached, strict=True)], True
        first, last = min(starts), max(starts) + request.granularity.width
        async with self.gate.turn():
            events = await asyncio.to_thread(self.lake.events, project_id, first.date(), last.date())
            values = await asyncio.to_thread(
                lake_windows, events, request.metric, request.granularity, starts, self.limits
            )
        await self.answers.put(key, [[value.value, value.unique_users] for value in values])
        return values, False

    async def locate_event(self, project_id: str, event_id: str) -> EventWhereabouts | None:
        """Where the event is, or None when neither the index nor the lake knows it."""
        indexed = await asyncio.to_thread(self.index.find, project_id, event_id)
        try:
            mark = await self.redis.run(lambda client: client.get(processed_key(project_id, event_id)))
            counted: bool | None = mark is not None
        except RedisUnavailable:
            mark, counted = None, None
        async with self.gate.turn():
            lake = await asyncio.to_thread(self._lake_whereabouts, project_id, event_id, indexed)
        if indexed is None and lake.status == NOT_YET:
            return None
        position = mark.decode() if isinstance(mark, bytes) else mark
        return EventWhereabouts(indexed, counted, position, lake)

    def _lake_whereabouts(
        self, project_id: str, event_id: str, indexed: IndexedEvent | None
    ) -> LakeWhereabouts:
        events = quarantined = None
        days = event_days(indexed)
        with contextlib.suppress(LakeTableMissing):
            events = (
                self.lake.events(project_id, *days) if days else self.lake.views(project_id, EVENTS)["events"]
            )
        with contextlib.suppress(LakeTableMissing):
            quarantined = self.lake.views(project_id, QUARANTINE)["quarantined_events"]
        return in_lake(events, quarantined, event_id, self.limits)

    async def user_events(self, project_id: str, user_id: str, limit: int) -> list[IndexedEvent]:
        return await asyncio.to_thread(self.index.of_user, project_id, user_id, limit)

    async def close(self) -> None:
        await asyncio.to_thread(self.progress.close)
        await self.redis.close()
        self.store.close()
        self.index.close()
