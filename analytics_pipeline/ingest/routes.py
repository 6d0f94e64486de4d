"""HTTP handlers of the ingestion API; the logic lives in the pipeline, these map it to statuses."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ValidationError

from analytics_pipeline.events.envelope import (
    BatchIn,
    EventIn,
    FieldError,
    parse_timestamp_field,
    pydantic_errors,
)
from analytics_pipeline.ingest.pipeline import IngestOutcome
from analytics_pipeline.ingest.responses import Accepted, BatchResult
from analytics_pipeline.ingest.service import IngestService
from analytics_pipeline.timeutil import utc_now
from analytics_pipeline.web.auth import Credentials
from analytics_pipeline.web.errors import ApiError, AsciiJSONResponse, ErrorBody, read_json_body
from analytics_pipeline.web.prometheus import metrics_response
from analytics_pipeline.web.readiness import kafka_ready, readiness_answer, readiness_responses, redis_ready

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid JSON or invalid fields, each named."},
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    413: {"model": ErrorBody, "description": "Body too large."},
    429: {"model": ErrorBody, "description": "Rate limit exceeded; see Retry-After."},
    503: {
        "model": ErrorBody,
        "description": "Kafka did not acknowledge in time (the message says why when the cluster can "
        "tell, e.g. too few in-sync replicas); retry after Retry-After.",
    },
}
_DUPLICATE = {409: {"model": ErrorBody, "description": "This eventId was accepted within the last 24 h."}}


def _json_body(model: type[BaseModel], limit: str) -> dict[str, Any]:
    """Documents the body that the handler parses itself (to control the 400 and 413 answers)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "description": limit, "content": content}}


def _service(request: Request) -> IngestService:
    return request.app.state.service


async def _authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str:
    return await _service(request).auth.authenticate(credentials)


@router.post(
    "/v1/events",
    status_code=202,
    response_model=Accepted,
    responses={**_ERRORS, **_DUPLICATE},
    openapi_extra=_json_body(EventIn, "At most 32 KB (ANALYTICS_MAX_EVENT_BYTES)."),
    summary="Send one event; 202 once Kafka has it",
)
async def post_event(request: Request, credentials: Credentials) -> AsciiJSONResponse:
    service = _service(request)
    received_at = utc_now()
    project_id = await _authenticate(request, credentials)
    body = await read_json_body(request, service.settings.max_event_bytes)
    await service.check_project_rate(project_id, 1)
    outcome = await service.pipeline.ingest(project_id, [body], received_at, None)
    _raise_for_single(outcome)
    # Answered as a response, so that FastAPI does not validate the model once more.
    return AsciiJSONResponse(Accepted(eventId=outcome.accepted[0]).model_dump(), status_code=202)


def _raise_for_single(outcome: IngestOutcome) -> None:
    if outcome.rejected:
        raise ApiError(400, "invalid_event", "the event is invalid", errors=outcome.rejected[0].errors)
    if outcome.duplicates:
        raise ApiError(409, "duplicate", f"event {outcome.duplicates[0]} was already accepted")
    if outcome.failed:
        raise ApiError(503, "kafka_unavailable", _unacknowledged("the event", outcome), retry_after_s=1)
    if outcome.retry:
        later = outcome.retry[0]
        if later.reason == "throttled":
            message = "over the limit for this eventType or userId"
            raise ApiError(429, "rate_limited", message, retry_after_s=later.retry_after_s)
        message = "an event with this eventId is being written right now; retry"
        raise ApiError(503, "in_flight", message, retry_after_s=later.retry_after_s)


@router.post(
    "/v1/batch",
    status_code=202,
    response_model=BatchResult,
    responses=_ERRORS,
    openapi_extra=_json_body(BatchIn, "At most 500 KB and 2,500 events (ANALYTICS_MAX_BATCH_*)."),
    summary="Send up to 2,500 events; one outcome per event",
)
async def post_batch(request: Request, credentials: Credentials) -> AsciiJSONResponse:
    service = _service(request)
    received_at = utc_now()
    project_id = await _authenticate(request, credentials)
    batch = _parse_batch(
        await read_json_body(request, service.settings.max_batch_bytes), service.settings.max_batch_events
    )
    sent_at, sent_at_error = parse_timestamp_field("sentAt", batch.sentAt)
    if sent_at_error:
        raise ApiError(400, "invalid_batch", "the batch envelope is invalid", errors=[sent_at_error])
    await service.check_project_rate(project_id, len(batch.events))
    outcome = await service.pipeline.ingest(project_id, batch.events, received_at, sent_at)
    if outcome.failed:
        message = _unacknowledged(f"{len(outcome.failed)} event(s)", outcome) + " the batch"
        raise ApiError(503, "kafka_unavailable", message, retry_after_s=1, extra=outcome.as_dict())
    return AsciiJSONResponse(outcome.as_dict(), status_code=202)


def _unacknowledged(what: str, outcome: IngestOutcome) -> str:
    """The 503's message: what Kafka did not acknowledge, and why when the cluster can tell."""
    why = f": {outcome.failure_reason}" if outcome.failure_reason else ""
    return f"Kafka did not acknowledge {what}{why}; retry"


def _parse_batch(body: Any, max_events: int) -> BatchIn:
    """The batch envelope, or 400; the events inside are judged one by one later."""
    try:
        batch = BatchIn.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            400, "invalid_batch", "the batch envelope is invalid", errors=pydantic_errors(exc)
        ) from exc
    if len(batch.events) > max_events:
        errors = [FieldError("events", f"must hold at most {max_events} events")]
        raise ApiError(400, "invalid_batch", "too many events", errors=errors)
    return batch


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Kafka and Redis are reachable", responses=readiness_responses("kafka", "redis")
)
async def readyz(request: Request) -> AsciiJSONResponse:
    service = _service(request)
    kafka, redis = await asyncio.gather(kafka_ready(service.settings), redis_ready(service.redis.client))
    return readiness_answer(kafka=kafka, redis=redis)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return metrics_response(_service(request).metrics.registry)
