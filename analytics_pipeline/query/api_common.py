"""What the query service's handlers share: the service, the error answers, the freshness field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from pydantic import Field

from analytics_pipeline.query.service import QueryService
from analytics_pipeline.timeutil import format_rfc3339
from analytics_pipeline.web.errors import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid query parameters, each named."},
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    503: {"model": ErrorBody, "description": "The lakehouse is busy; retry after Retry-After."},
}


def lake_complete_field() -> Any:
    return Field(
        description="Every event accepted (202) before this instant is in the lake; later windows may "
        "still be filling. Null when Kafka cannot tell."
    )


def service_of(request: Request) -> QueryService:
    return request.app.state.service


def instant(moment: datetime | None) -> str | None:
    return format_rfc3339(moment) if moment is not None else None
