"""A metric's windows as the API answers them, for ``/v1/metrics/{metric}`` and ``/v1/live``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from analytics_pipeline.query.api_common import instant, lake_complete_field
from analytics_pipeline.query.metric_request import MetricRequest
from analytics_pipeline.query.service import QueryService
from analytics_pipeline.realtime.windows import format_window


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


async def metric_series(service: QueryService, project_id: str, request: MetricRequest) -> MetricSeries:
    answer = await service.metric_windows(project_id, request)
    return MetricSeries(
        metric=request.metric,
        granularity=str(request.granularity),
        data=[
            MetricPoint(timestamp=format_window(v.start), value=v.value, uniqueUsers=v.unique_users, source=s)
            for v, s in zip(answer.values, answer.sources, strict=True)
        ],
        source=answer.source,
        cached=answer.cached,
        retainedFrom=format_window(answer.retained_from),
        lakeCompleteUpTo=instant(await service.lake_complete_up_to(project_id)),
    )
