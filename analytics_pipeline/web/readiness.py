"""Readiness probes: can this instance reach Kafka and Redis right now?"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from analytics_pipeline.kafka_io.admin import broker_answers
from analytics_pipeline.settings import Settings

PROBE_TIMEOUT_S = 2.0


async def kafka_ready(settings: Settings) -> bool:
    return await asyncio.to_thread(broker_answers, settings.kafka_bootstrap_servers, PROBE_TIMEOUT_S)


async def redis_ready(client: aioredis.Redis) -> bool:
    try:
        return bool(await asyncio.wait_for(client.ping(), PROBE_TIMEOUT_S))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False
