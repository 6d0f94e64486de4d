"""Readiness probes: can this instance reach Kafka and Redis right now? Both APIs answer
``/readyz`` in one shape: each dependency it needs, ``"ok"`` or ``"unreachable"``."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from analytics_pipeline.kafka_io.replicas import broker_answers
from analytics_pipeline.settings import Settings
from analytics_pipeline.web.errors import AsciiJSONResponse

PROBE_TIMEOUT_S = 2.0


async def kafka_ready(settings: Settings) -> bool:
    return await asyncio.to_thread(broker_answers, settings.kafka_bootstrap_servers, PROBE_TIMEOUT_S)


async def redis_ready(client: aioredis.Redis) -> bool:
    try:
        return bool(await asyncio.wait_for(client.ping(), PROBE_TIMEOUT_S))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False


def readiness_answer(**reachable: bool) -> AsciiJSONResponse:
    """200 when every dependency answers, else 503; the body names each one's state."""
    body = {name: "ok" if up else "unreachable" for name, up in reachable.items()}
    return AsciiJSONResponse(body, status_code=200 if all(reachable.values()) else 503)


def readiness_responses(*dependencies: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of ``/readyz`` for these dependencies."""

    def example(state: str) -> dict[str, Any]:
        return {"application/json": {"example": dict.fromkeys(dependencies, state)}}

    return {
        200: {"description": f"{', '.join(dependencies)} answer.", "content": example("ok")},
        503: {"description": "At least one dependency does not answer.", "content": example("unreachable")},
    }
