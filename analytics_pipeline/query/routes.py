"""HTTP handlers of the query service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from analytics_pipeline.query.metric_request import parse_metric_request
from analytics_pipeline.query.service import QueryService
from analytics_pipeline.realtime.windows import format_window
from analytics_pipeline.web.auth import Credentials
from analytics_pipeline.web.errors import ApiError, ErrorBody
from analytics_pipeline.web.readiness import readiness_answer, readiness_responses, redis_ready

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid query parameters, each named."},
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    503: {"model": ErrorBody, "description": "Redis is unavailable; retry after Retry-After."},
}


class MetricPoint(BaseModel):
    timestamp: str = Field(description="Window start, UTC.")
    value: int = Field(description="Events in the window (for active_users: unique users).")
    uniqueUsers: int = Field(description="Distinct userIds (HyperLogLog, standard error 0.81 %).")


class MetricSeries(BaseModel):
    metric: str
    granularity: str
    data: list[MetricPoint]
    source: str = Field(description="cache: every point comes from the real-time aggregates in Redis.")
    retainedFrom: str = Field(
        description="Redis keeps windows from here on; earlier points are zero unless a fallback has them."
    )


def _service(request: Request) -> QueryService:
    return request.app.state.service


@router.get(
    "/v1/metrics/{metric}",
    response_model=MetricSeries,
    responses=_ERRORS,
    summary="A metric per window over [startTime, endTime), zero-filled",
)
async def get_metric(
    request: Request,
    credentials: Credentials,
    metric: str,
    *,
    start_time: Annotated[str | None, Query(alias="startTime", description="RFC 3339, inclusive.")] = None,
    end_time: Annotated[str | None, Query(alias="endTime", description="RFC 3339, exclusive.")] = None,
    granularity: Annotated[str | None, Query(description="1m (default), 1h or 1d.")] = None,
) -> MetricSeries:
    service = _service(request)
    project_id = await service.auth.authenticate(credentials)
    parsed, errors = parse_metric_request(
        metric, start_time, end_time, granularity, max_windows=service.settings.query_max_windows
    )
    if parsed is None:
        raise ApiError(400, "invalid_query", "the query is invalid", errors=errors)
    values, source, retained = await service.metric_windows(project_id, parsed)
    return MetricSeries(
        metric=parsed.metric,
        granularity=str(parsed.granularity),
        data=[
            MetricPoint(timestamp=format_window(v.start), value=v.value, uniqueUsers=v.unique_users)
            for v in values
        ],
        source=source,
        retainedFrom=format_window(retained),
    )


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Redis answers", responses=readiness_responses("redis"))
async def readyz(request: Request) -> Response:
    return readiness_answer(redis=await redis_ready(_service(request).redis.client))
