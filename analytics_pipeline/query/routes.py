"""HTTP handlers of the query service: metrics per window, health, Prometheus; the SQL and
event-lookup handlers join from their own modules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from analytics_pipeline.query import event_routes, sql_routes
from analytics_pipeline.query.api_common import ERRORS, instant, lake_complete_field, service_of
from analytics_pipeline.query.metric_request import parse_metric_request
from analytics_pipeline.realtime.windows import format_window
from analytics_pipeline.web.auth import Credentials
from analytics_pipeline.web.errors import ApiError
from analytics_pipeline.web.prometheus import metrics_response
from analytics_pipeline.web.readiness import readiness_answer, readiness_responses, redis_ready

router = APIRouter()


class MetricPoint(BaseModel):
    timestamp: str = Field(description="Window start, UTC.")
    value: int = Field(description="Events in the window (for active_users: unique users).")
    uniqueUsers: int = Field(
        description="Distinct userIds: a HyperLogLog estimate from Redis (0.81 % standard error), exact "
        "from the warehouse."
    )
    source: str = Field(description="cache (Redis) or warehouse (the lakehouse).")


class MetricSeries(BaseModel):
    metric: str
    granularity: str
    data: list[MetricPoint]
    source: str = Field(description="cache, warehouse, or mixed when the windows came from both.")
    cached: bool = Field(
        description="The warehouse's windows were answered from the query cache (computed from the "
        "same table version) rather than computed again."
    )
    retainedFrom: str = Field(
        description="Redis keeps windows from here on; earlier ones come from the warehouse."
    )
    lakeCompleteUpTo: str | None = lake_complete_field()


@router.get(
    "/v1/metrics/{metric}",
    response_model=MetricSeries,
    responses=ERRORS,
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
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    parsed, errors = parse_metric_request(
        metric, start_time, end_time, granularity, max_windows=service.settings.query_max_windows
    )
    if parsed is None:
        raise ApiError(400, "invalid_query", "the query is invalid", errors=errors)
    answer = await service.metric_windows(project_id, parsed)
    return MetricSeries(
        metric=parsed.metric,
        granularity=str(parsed.granularity),
        data=[
            MetricPoint(timestamp=format_window(v.start), value=v.value, uniqueUsers=v.unique_users, source=s)
            for v, s in zip(answer.values, answer.sources, strict=True)
        ],
        source=answer.source,
        cached=answer.cached,
        retainedFrom=format_window(answer.retained_from),
        lakeCompleteUpTo=instant(await service.lake_complete_up_to(project_id)),
    )


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Redis answers", responses=readiness_responses("redis"))
async def readyz(request: Request) -> Response:
    return readiness_answer(redis=await redis_ready(service_of(request).redis.client))


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return metrics_response(service_of(request).metrics.registry)


router.include_router(sql_routes.router)
router.include_router(event_routes.router)
