"""The claim floor: the least a server must do to keep the ingestion API's guarantees, and
nothing more. Beside the HTTP ceiling it shows what those guarantees cost on this machine.

A bare FastAPI endpoint (as the ceiling, with the API's worker count) that parses and validates
the event and builds the record the API writes. It then claims the eventId with one Redis
``SET NX GET``: without a claim before the write, a 409 could not be trusted. It writes the
record with the API's producer settings, waits for acks=all and answers 202. The claim is
confirmed after the answer, off the request's path.

It has no API key, no rate limit, no schema lookup and no metrics; the API adds these. Its
topic is the project named by the bearer token, so the bench can check that it landed each
event once.
"""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.ingest.dedup import ACCEPTED, PENDING, dedup_key
from analytics_pipeline.kafka_io.producer import build_kafka_producer
from analytics_pipeline.settings import Settings, get_settings
from analytics_pipeline.stack.api_servers import ApiServer, ingest_worker_options
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.timeutil import utc_now
from analytics_pipeline.web.app import WITHOUT_OPENTELEMETRY

_PENDING_TTL_S = 60


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(telemetry=WITHOUT_OPENTELEMETRY)  # configured as the services are
    redis = Redis.from_url(settings.redis_url)
    producer = build_kafka_producer(settings)
    window = TimeWindow(
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_age=timedelta(seconds=settings.max_event_age_s),
    )
    confirming: set[asyncio.Task[object]] = set()

    @app.post("/v1/events", status_code=202)
    async def accept(request: Request) -> JSONResponse:
        received_at = utc_now()
        project_id = request.headers["authorization"].removeprefix("Bearer ")
        valid, errors = validate_event(await request.json(), received_at=received_at, window=window)
        if valid is None or errors:
            return JSONResponse({"errors": [e.field for e in errors]}, status_code=400)
        record = kafka_record(valid, project_id, received_at)
        key = dedup_key(project_id, valid.event.eventId)
        if await redis.set(key, PENDING, nx=True, get=True, ex=_PENDING_TTL_S) is not None:
            return JSONResponse({"eventId": valid.event.eventId}, status_code=409)
        loop = asyncio.get_running_loop()
        acknowledged: asyncio.Future[object] = loop.create_future()
        sent = producer.send(record.topic, key=record.key, value=record.value)
        sent.add_callback(lambda metadata: loop.call_soon_threadsafe(acknowledged.set_result, metadata))
        sent.add_errback(lambda error: loop.call_soon_threadsafe(acknowledged.set_exception, error))
        await acknowledged
        confirm = asyncio.create_task(redis.set(key, ACCEPTED, xx=True, ex=settings.dedup_ttl_s))
        confirming.add(confirm)
        confirm.add_done_callback(confirming.discard)
        return JSONResponse({"eventId": valid.event.eventId}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    gc.freeze()  # as web.app does for the services
    return app


class ClaimFloorServer(ApiServer):
    name = "claim-floor"
    app_factory = "bench.ingest.floor:create_app"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, "127.0.0.1", free_port())

    def worker_options(self) -> list[str]:
        return ingest_worker_options(self.settings)
