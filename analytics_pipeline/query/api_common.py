"""What the query service's handlers share: the service, the error answers, the freshness field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from analytics_pipeline.query.metric_request import MetricRequest, parse_metric_request
from analytics_pipeline.query.service import QueryService
from analytics_pipeline.timeutil import format_rfc3339
from analytics_pipeline.web.errors import ApiError, ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid query parameters, each named."},
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    503: {"model": ErrorBody, "description": "The lakehouse is busy; retry after Retry-After."},
}


# The range of a metric query, as ``/v1/metrics/{metric}`` and ``/v1/live`` take it.
StartTime = Annotated[str | None, Query(alias="startTime", description="RFC 3339, inclusive.")]
EndTime = Annotated[str | None, Query(alias="endTime", description="RFC 3339, exclusive.")]
GranularityParam = Annotated[str | None, Query(description="1m (default), 1h or 1d.")]


def metric_request_or_400(
    service: QueryService, metric: str, start_time: str | None, end_time: str | None, granularity: str | None
) -> MetricRequest:
    parsed, errors = parse_metric_request(
        metric, start_time, end_time, granularity, max_windows=service.settings.query_max_windows
    )
    if parsed is None:
        raise ApiError(400, "invalid_query", "the query is invalid", errors=errors)
    return parsed


def lake_complete_field() -> Any:
    return Field(
        description="Every event accepted (202) before this instant is in the lake; later windows may "
        "still be filling. Null when Kafka cannot tell."
    )


def service_of(request: Request) -> QueryService:
    return request.app.state.service


def instant(moment: datetime | None) -> str | None:
    return format_rfc3339(moment) if moment is not None else None
