"""``/v1/events/{eventId}`` and ``/v1/users/{userId}/events``: one event's whereabouts, and a
user's latest events, from the event index, Redis and the lake."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.metadata.event_index import IndexedEvent
from analytics_pipeline.query.api_common import ERRORS, instant, lake_complete_field, service_of
from analytics_pipeline.timeutil import format_rfc3339
from analytics_pipeline.web.auth import Credentials
from analytics_pipeline.web.errors import ApiError, ErrorBody

router = APIRouter()


class AcceptedEvent(BaseModel):
    eventId: str
    eventType: str
    userId: str
    timestamp: str
    receivedAt: str = Field(description="When the ingestion service accepted it (202).")
    topic: str
    partition: int
    offset: int


class StreamState(BaseModel):
    counted: bool | None = Field(
        description="The stream worker counted it (its mark lives 24 h); null when Redis does not answer."
    )
    position: str | None = Field(description="partition@offset of the record the worker counted.")


class LakeState(BaseModel):
    status: str = Field(description="validated, quarantined, or not in the lake yet.")
    detail: dict[str, Any] = Field(
        description="validated: eventDate, batchId, schemaVersion. "
        "quarantined: stage, reason, problems, batchId."
    )


class EventWhereaboutsBody(BaseModel):
    eventId: str
    accepted: AcceptedEvent | None = Field(
        description="From the event index (ANALYTICS_EVENT_INDEX_RETENTION_S); null once it aged out."
    )
    stream: StreamState
    lake: LakeState
    lakeCompleteUpTo: str | None = lake_complete_field()


class UserEvents(BaseModel):
    userId: str
    events: list[AcceptedEvent] = Field(
        description="Newest first, by event time, within the index's retention."
    )


def _accepted(event: IndexedEvent) -> AcceptedEvent:
    return AcceptedEvent(
        eventId=event.event_id,
        eventType=event.event_type,
        userId=event.user_id,
        timestamp=format_rfc3339(event.timestamp),
        receivedAt=format_rfc3339(event.received_at),
        topic=raw_topic(event.project_id),
        partition=event.partition,
        offset=event.offset,
    )


@router.get(
    "/v1/events/{event_id}",
    response_model=EventWhereaboutsBody,
    responses={
        **ERRORS,
        404: {"model": ErrorBody, "description": "Neither the index nor the lake knows it."},
    },
    summary="Where one event is: accepted, counted in real time, in the lake or quarantined",
)
async def get_event(request: Request, credentials: Credentials, event_id: str) -> EventWhereaboutsBody:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    found = await service.locate_event(project_id, event_id)
    if found is None:
        raise ApiError(404, "not_found", f"no event {event_id!r} in this project's index or lake")
    return EventWhereaboutsBody(
        eventId=event_id,
        accepted=_accepted(found.indexed) if found.indexed else None,
        stream=StreamState(counted=found.counted, position=found.position),
        lake=LakeState(status=found.lake.status, detail=found.lake.row),
        lakeCompleteUpTo=instant(await service.lake_complete_up_to(project_id)),
    )


@router.get(
    "/v1/users/{user_id}/events",
    response_model=UserEvents,
    responses=ERRORS,
    summary="A user's latest events (from the event index)",
)
async def get_user_events(
    request: Request,
    credentials: Credentials,
    user_id: str,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 50,
) -> UserEvents:
    service = service_of(request)
    project_id = await service.auth.authenticate(credentials)
    events = await service.user_events(project_id, user_id, limit)
    return UserEvents(userId=user_id, events=[_accepted(e) for e in events])
