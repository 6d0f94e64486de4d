"""The query cache's key, and the lake gate: a few at once, a short wait, then 503."""

from __future__ import annotations

import asyncio

import pytest

from analytics_pipeline.query.lake_views import TableVersion
from analytics_pipeline.query.overload import LakeGate
from analytics_pipeline.query.sql_guard import check_query
from analytics_pipeline.query.sql_service import cache_key
from analytics_pipeline.web.errors import ApiError


def test_the_key_covers_project_query_and_table_versions():
    query = check_query("select count(*) from events")
    at_3 = {"events": TableVersion("table-a", 3)}
    key = cache_key("shop", query, at_3)
    assert key.startswith("query:")
    assert key == cache_key("shop", check_query("SELECT COUNT(*)  FROM EVENTS"), at_3)
    assert key != cache_key("blog", query, at_3), "another project"
    assert key != cache_key("shop", query, {"events": TableVersion("table-a", 4)}), "a new ETL run"
    assert key != cache_key("shop", query, {"events": TableVersion("table-b", 3)}), "a table rebuilt"
    assert key != cache_key("shop", check_query("select count(*) from events where 1=1"), at_3)


def test_the_gate_lets_a_few_in_and_answers_503_after_the_wait():
    async def scenario() -> list[str]:
        gate, outcomes = LakeGate(slots=1, wait_s=0.2), []
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.turn():
                outcomes.append("first")
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError) as refused:
            async with gate.turn():
                outcomes.append("never")
        outcomes.append(f"{refused.value.status} retry after {refused.value.retry_after_s}")
        release.set()
        await holder
        async with gate.turn():
            outcomes.append("after")
        return outcomes

    assert asyncio.run(scenario()) == ["first", "503 retry after 1", "after"]
