"""Readiness probes: can this instance reach Kafka and Redis right now?"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from analytics_pipeline.kafka_io.admin import admin_client
from analytics_pipeline.settings import Settings

PROBE_TIMEOUT_S = 2.0


def _kafka_answers(bootstrap_servers: str) -> bool:
    try:
        with admin_client(bootstrap_servers, timeout_s=PROBE_TIMEOUT_S) as admin:
            return bool(admin.describe_cluster().get("brokers"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False


async def kafka_ready(settings: Settings) -> bool:
    return await asyncio.to_thread(_kafka_answers, settings.kafka_bootstrap_servers)


async def redis_ready(client: aioredis.Redis) -> bool:
    try:
        return bool(await asyncio.wait_for(client.ping(), PROBE_TIMEOUT_S))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False
