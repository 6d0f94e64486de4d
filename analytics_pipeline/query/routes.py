"""HTTP handlers of the query service: metrics per window, health, Prometheus; the SQL, event
lookup and project-overview handlers join from their own modules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from analytics_pipeline.query import event_routes, overview_routes, sql_routes
from analytics_pipeline.query.api_common import (
    ERRORS,
    EndTime,
    GranularityParam,
    StartTime,
    metric_request_or_400,
    service_of,
)
from analytics_pipeline.query.metric_series import MetricSeries, metric_series
from analytics_pipeline.web.auth import Credentials
from analytics_pipeline.web.prometheus import metrics_response
from analytics_pipeline.web.readiness import readiness_answer, readiness_responses, redis_ready

router = APIRouter()


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
    start_time: StartTime = None,
    end_time: EndTime = None,
    granularity: GranularityParam = None,
) -> MetricSeries:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    parsed = metric_request_or_400(service, metric, start_time, end_time, granularity)
    return await metric_series(service, project_id, parsed)


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
router.include_router(overview_routes.router)
