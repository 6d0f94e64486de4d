"""SQL over the lake for one project: checked, answered from Redis when an answer for the same
project, query and table versions is there (cache-aside, ``query:{hash}``), else run by DuckDB
within the limits and a turn at the lake, then cached. Redis down: answered, uncached."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from analytics_pipeline.query.answer_cache import AnswerCache, answer_key
from analytics_pipeline.query.lake_views import ProjectLake, TableVersion
from analytics_pipeline.query.overload import LakeGate
from analytics_pipeline.query.sql_engine import QueryResult
from analytics_pipeline.query.sql_guard import CheckedQuery, check_query


@dataclass(frozen=True)
class SqlAnswer:
    result: QueryResult
    cached: bool
    elapsed_ms: float


def cache_key(project_id: str, query: CheckedQuery, versions: dict[str, TableVersion]) -> str:
    """``query:{hash}`` of the project, the normalized SQL and the versions of the tables it reads,
    so a new ETL run is never hidden behind an answer computed before it."""
    return answer_key(project_id, query.sql, sorted(versions.items()))


class SqlEngine(Protocol):
    def run(self, project_id: str, query: CheckedQuery) -> QueryResult: ...


class SqlService:
    def __init__(self, lake: ProjectLake, engine: SqlEngine, cache: AnswerCache, gate: LakeGate) -> None:
        self.lake = lake
        self.engine = engine
        self.cache = cache
        self.gate = gate

    async def answer(self, project_id: str, text: str) -> SqlAnswer:
        """``SqlRefused`` for a statement the service will not run, ``LakeTableMissing`` for a
        table no ETL run has written yet."""
        started = time.perf_counter()
        query = check_query(text)
        versions = await asyncio.to_thread(self.lake.versions, query.tables)
        key = cache_key(project_id, query, versions)
        cached = await self.cache.get(key)
        if cached is not None:
            return SqlAnswer(QueryResult(cached["columns"], cached["rows"]), True, _ms_since(started))
        async with self.gate.turn():
            result = await asyncio.to_thread(self.engine.run, project_id, query)
        await self.cache.put(key, {"columns": result.columns, "rows": result.rows})
        return SqlAnswer(result, False, _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
