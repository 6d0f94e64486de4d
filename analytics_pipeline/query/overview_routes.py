"""A project's overview, as the web console shows it: which project a key opens (``/v1/project``),
the last hour live (``/v1/live``), and the pipeline's health for it (``/v1/health``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from analytics_pipeline.query.api_common import (
    ERRORS,
    EndTime,
    GranularityParam,
    StartTime,
    instant,
    lake_complete_field,
    metric_request_or_400,
    service_of,
)
from analytics_pipeline.query.metric_request import MetricRequest
from analytics_pipeline.query.metric_series import MetricSeries, metric_series
from analytics_pipeline.realtime.layout import ACTIVE_USERS, ALL_EVENTS
from analytics_pipeline.timeutil import utc_now
from analytics_pipeline.web.auth import Credentials

router = APIRouter()

LIVE_TYPES = 8  # the busiest eventTypes the live view draws one by one


class ProjectBody(BaseModel):
    projectId: str
    dagsterUrl: str = Field(description="The Dagster UI: the lakehouse's lineage and runs.")


class LiveOverview(BaseModel):
    allEvents: MetricSeries
    activeUsers: MetricSeries
    byType: list[MetricSeries] = Field(
        description=f"The {LIVE_TYPES} busiest eventTypes Redis counted in the range's hours, busiest first."
    )


class LakeAsset(BaseModel):
    asset: str
    lastWrittenAt: str | None = Field(description="The table's latest commit; null before its first.")
    ageSeconds: float | None


class DeadLetters(BaseModel):
    held: int
    waiting: int = Field(description="Held and never redriven.")


class HealthBody(BaseModel):
    lagByGroup: dict[str, int] = Field(description="Records each consumer group has still to read.")
    hotPartitions: list[int] = Field(description="Partitions of the raw topic far behind their siblings.")
    deadLetters: DeadLetters
    lakeAssets: list[LakeAsset]
    lakeCompleteUpTo: str | None = lake_complete_field()
    alarms: list[str]
    dagsterUrl: str


@router.get("/v1/project", response_model=ProjectBody, responses=ERRORS, summary="The key's project")
async def get_project(request: Request, credentials: Credentials) -> ProjectBody:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    return ProjectBody(projectId=project_id, dagsterUrl=service.settings.dagster_url)


@router.get(
    "/v1/live",
    response_model=LiveOverview,
    responses=ERRORS,
    summary="All events, active users and the busiest eventTypes per window over [startTime, endTime)",
)
async def get_live(
    request: Request,
    credentials: Credentials,
    *,
    start_time: StartTime = None,
    end_time: EndTime = None,
    granularity: GranularityParam = None,
) -> LiveOverview:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    parsed = metric_request_or_400(service, ALL_EVENTS, start_time, end_time, granularity)

    def series(metric: str) -> MetricRequest:
        return MetricRequest(metric, parsed.granularity, parsed.start, parsed.end)

    types = await service.live_types(project_id, parsed.start, parsed.end, LIVE_TYPES)
    return LiveOverview(
        allEvents=await metric_series(service, project_id, parsed),
        activeUsers=await metric_series(service, project_id, series(ACTIVE_USERS)),
        byType=[await metric_series(service, project_id, series(event_type)) for event_type in types],
    )


@router.get(
    "/v1/health", response_model=HealthBody, responses=ERRORS, summary="The pipeline's health for the project"
)
async def get_health(request: Request, credentials: Credentials) -> HealthBody:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    report = await service.project_health(project_id)
    now = utc_now()
    return HealthBody(
        lagByGroup=report.lag_by_group,
        hotPartitions=sorted({r.partition for r in report.lags if r.hot}),
        deadLetters=DeadLetters(
            held=report.dead_letters.get(project_id, 0), waiting=report.waiting_letters.get(project_id, 0)
        ),
        lakeAssets=[
            LakeAsset(
                asset=asset,
                lastWrittenAt=instant(written),
                ageSeconds=(now - written).total_seconds() if written else None,
            )
            for asset, written in (await service.lake_written()).items()
        ],
        lakeCompleteUpTo=instant(await service.lake_complete_up_to(project_id)),
        alarms=report.alarms,
        dagsterUrl=service.settings.dagster_url,
    )
