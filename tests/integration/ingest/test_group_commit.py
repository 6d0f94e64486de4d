"""Group commit against a real Redis: concurrent requests share round trips and get exactly the
answers they would have got one at a time (rate limits, claims); several workers count as one."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from analytics_pipeline.ingest.dedup import Claim, Deduplicator
from analytics_pipeline.ingest.ratelimit import RateLimits
from analytics_pipeline.redis_guard import GuardedRedis
from analytics_pipeline.settings import Settings
from tests.support.events import new_event


def _limits_answers(settings: Settings, costs: list[int]) -> tuple[list[int | None], int]:
    """Concurrent project hits of one project; the answers and how many groups they took."""

    async def scenario() -> tuple[list[int | None], int]:
        redis = GuardedRedis.from_settings(settings)
        limits = RateLimits(settings, redis)
        project = f"p-{uuid.uuid4().hex[:8]}"
        try:
            answers = await asyncio.gather(*(limits.project_retry_after(project, cost) for cost in costs))
            return list(answers), limits._project_hits.flushes
        finally:
            await redis.close()

    return asyncio.run(scenario())


def test_concurrent_requests_within_the_limit_pass_together(redis_server):
    settings = redis_server.settings.model_copy(update={"rate_limit_project": "10/minute"})
    answers, groups = _limits_answers(settings, [2, 3, 5])
    assert answers == [None, None, None]
    assert groups == 1


def test_concurrent_requests_over_the_limit_get_the_answers_of_one_at_a_time(redis_server):
    """4 requests of 2 events against 5/minute: one at a time, the first two pass (4 of 5) and
    the others are refused; together (8 > 5) the group falls back to exactly that."""
    settings = redis_server.settings.model_copy(update={"rate_limit_project": "5/minute"})
    answers, _groups = _limits_answers(settings, [2, 2, 2, 2])
    assert answers[:2] == [None, None]
    assert all(retry_after is not None and 1 <= retry_after <= 60 for retry_after in answers[2:])


def test_one_claim_wins_when_concurrent_requests_carry_the_same_event(redis_server):
    async def scenario() -> list[list[Claim] | None]:
        redis = GuardedRedis.from_settings(redis_server.settings)
        dedup = Deduplicator(redis, ttl_s=60, pending_ttl_s=30)
        event_id = str(uuid.uuid4())
        try:
            return list(await asyncio.gather(*(dedup.claim("p", [event_id]) for _ in range(5))))
        finally:
            await redis.close()

    claims = [answer[0] for answer in asyncio.run(scenario()) if answer is not None]
    assert sorted(claim.value for claim in claims) == ["in_flight"] * 4 + ["new"]


def test_metrics_add_up_the_workers(start_ingest, project):
    """Rounds of 60 events until both workers have answered some: a worker still starting on a
    loaded machine can leave its twin to take a whole round; then every event counts once."""
    server = start_ingest(ingest_workers=2)
    folder = Path(server.settings.home) / "run" / f"ingest-api-{server.port}-metrics"

    def send(body: dict) -> int:  # a connection of its own each: the kernel spreads them
        return httpx.post(f"{server.url}/v1/events", json=body, headers=project.auth, timeout=10).status_code

    def counting() -> set[str]:
        return {path.stem.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}

    sent = 0
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(8) as pool:
        while sent == 0 or (len(counting()) < 2 and time.monotonic() < deadline):
            events = [new_event() for _ in range(60)]
            assert list(pool.map(send, events)) == [202] * len(events)
            sent += len(events)
    assert len(counting()) >= 2, "both workers answered"
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert f'analytics_events_total{{outcome="accepted",project="{project.project_id}"}} {sent:.1f}' in text
    assert "analytics_redis_breaker_state 0.0" in text
