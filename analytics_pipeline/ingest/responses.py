"""Response bodies of the ingestion API, for the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from analytics_pipeline.web.errors import FieldErrorBody


class Accepted(BaseModel):
    eventId: str
    status: Literal["accepted"] = "accepted"


class RejectedEvent(BaseModel):
    index: int
    eventId: str | None
    errors: list[FieldErrorBody]


class RetryEvent(BaseModel):
    index: int
    eventId: str
    retryAfter: int
    reason: Literal["throttled", "in_flight"]


class BatchResult(BaseModel):
    accepted: list[str]
    duplicates: list[str]
    rejected: list[RejectedEvent]
    retry: list[RetryEvent] | None = None
