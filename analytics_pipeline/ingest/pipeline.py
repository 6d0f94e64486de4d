"""What happens to a request's events after authentication: validate, throttle, deduplicate,
produce. One path for ``/v1/events`` and ``/v1/batch``, so both behave alike."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics_pipeline.events.envelope import (
    FieldError,
    TimeWindow,
    ValidEvent,
    validate_event,
)
from analytics_pipeline.events.property_schema import CompiledSchema
from analytics_pipeline.events.record import UnencodableEvent, kafka_record
from analytics_pipeline.ingest.dedup import Claim, Deduplicator
from analytics_pipeline.ingest.metrics import IngestMetrics
from analytics_pipeline.ingest.ratelimit import RateLimits
from analytics_pipeline.ingest.refusals import RefusalExplainer
from analytics_pipeline.ingest.schemas import SchemaRegistry
from analytics_pipeline.ingest.topic_guard import TopicGuard
from analytics_pipeline.ingest.undecided import UndecidedEvents
from analytics_pipeline.kafka_io.producer import (
    AckedProducer,
    DeliveryFailed,
    OutgoingRecord,
    StillDelivering,
)

_CLOCK_MARGIN_MS = 1_000  # records are searched from a second before their produce began


@dataclass(frozen=True)
class Rejection:
    index: int
    event_id: str | None
    errors: list[FieldError]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "eventId": self.event_id, "errors": [e.as_dict() for e in self.errors]}


@dataclass(frozen=True)
class RetryLater:
    """An event the client should send again after ``retry_after_s``: throttled or in flight."""

    index: int
    event_id: str
    retry_after_s: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "eventId": self.event_id,
            "retryAfter": self.retry_after_s,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Candidate:
    """A valid event on its way: its position in the request and its ready Kafka record."""

    index: int
    event: ValidEvent
    record: OutgoingRecord

    @property
    def event_id(self) -> str:
        return self.event.event.eventId


@dataclass
class IngestOutcome:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    retry: list[RetryLater] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # Kafka did not acknowledge: answer 503
    failure_reason: str | None = None  # why, when the cluster can tell (too few in-sync replicas)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.as_dict() for r in self.rejected],
        }
        if self.retry:
            body["retry"] = [r.as_dict() for r in self.retry]
        return body


class IngestPipeline:
    def __init__(
        self,
        *,
        producer: AckedProducer,
        dedup: Deduplicator,
        schemas: SchemaRegistry,
        limits: RateLimits,
        topics: TopicGuard,
        refusals: RefusalExplainer,
        metrics: IngestMetrics,
        window: TimeWindow,
        undecided: UndecidedEvents | None = None,
        settle_timeout_s: float = 60.0,
    ) -> None:
        self._producer = producer
        self._refusals = refusals
        self._undecided = undecided
        self._settle_timeout_s = settle_timeout_s
        self._settling: set[asyncio.Task[None]] = set()
        self._dedup = dedup
        self._schemas = schemas
        self._limits = limits
        self._topics = topics
        self._metrics = metrics
        self._window = window

    async def ingest(
        self, project_id: str, raw_events: list[Any], received_at: datetime, batch_sent_at: datetime | None
    ) -> IngestOutcome:
        outcome = IngestOutcome()
        candidates = await self._validate(project_id, raw_events, received_at, batch_sent_at, outcome)
        candidates = await self._throttle(project_id, candidates, outcome)
        claimed = await self._claim(project_id, candidates, outcome)
        if claimed:
            await self._produce(project_id, claimed, outcome)
        self._count(project_id, outcome)
        return outcome

    async def _validate(
        self,
        project_id: str,
        raw_events: list[Any],
        received_at: datetime,
        batch_sent_at: datetime | None,
        outcome: IngestOutcome,
    ) -> list[Candidate]:
        candidates = []
        for index, raw in enumerate(raw_events):
            event, errors = validate_event(
                raw, received_at=received_at, window=self._window, batch_sent_at=batch_sent_at
            )
            schema = await self._schema_of(project_id, raw, errors)
            if schema is not None:
                errors += schema.errors_for(raw.get("properties", {}))
            if event is not None and not errors:
                version = schema.version if schema is not None else None
                try:
                    record = kafka_record(event, project_id, received_at, schema_version=version)
                    candidates.append(Candidate(index, event, record))
                    continue
                except UnencodableEvent as exc:
                    errors = [exc.error]
            event_id = raw.get("eventId") if isinstance(raw, dict) else None
            outcome.rejected.append(Rejection(index, event_id if isinstance(event_id, str) else None, errors))
        return candidates

    async def _schema_of(
        self, project_id: str, raw: Any, envelope_errors: list[FieldError]
    ) -> CompiledSchema | None:
        """The schema the event's properties are judged by (and stamped with), whenever its type
        and properties passed the envelope, so one answer lists every bad field."""
        if not isinstance(raw, dict) or {e.field for e in envelope_errors} & {
            "body",
            "eventType",
            "properties",
        }:
            return None
        return await self._schemas.current(project_id, raw["eventType"])

    async def _throttle(
        self, project_id: str, candidates: list[Candidate], outcome: IngestOutcome
    ) -> list[Candidate]:
        throttled = await self._limits.throttled_events(
            project_id,
            [c.event.event.eventType for c in candidates],
            [c.event.event.userId for c in candidates],
        )
        kept = []
        for position, candidate in enumerate(candidates):
            if position in throttled:
                later = RetryLater(candidate.index, candidate.event_id, throttled[position], "throttled")
                outcome.retry.append(later)
            else:
                kept.append(candidate)
        return kept

    async def _claim(
        self, project_id: str, candidates: list[Candidate], outcome: IngestOutcome
    ) -> list[Candidate]:
        unique = []
        seen: set[str] = set()
        for candidate in candidates:  # a repeat within one request is a duplicate of its first
            if candidate.event_id in seen:
                outcome.duplicates.append(candidate.event_id)
            else:
                seen.add(candidate.event_id)
                unique.append(candidate)
        claims = await self._dedup.claim(project_id, [c.event_id for c in unique])
        if claims is None:  # Redis away: fail open, downstream consumers deduplicate
            self._metrics.dedup_skipped.inc(len(unique))
            return unique
        claimed = []
        for candidate, claim in zip(unique, claims, strict=True):
            if claim is Claim.NEW:
                claimed.append(candidate)
            elif claim is Claim.ACCEPTED:
                outcome.duplicates.append(candidate.event_id)
            else:
                outcome.retry.append(RetryLater(candidate.index, candidate.event_id, 1, "in_flight"))
        return claimed

    async def _produce(self, project_id: str, candidates: list[Candidate], outcome: IngestOutcome) -> None:
        started = time.perf_counter()
        sent_ms = int(time.time() * 1000) - _CLOCK_MARGIN_MS  # the records' CreateTime is later
        try:
            await self._topics.ensure(project_id)
        except Exception as exc:  # noqa: BLE001 - Kafka away: every event fails alike
            errors: list[BaseException | None] = [exc] * len(candidates)
        else:
            errors = await self._producer.send_all([c.record for c in candidates])
        self._metrics.produce_latency.observe(time.perf_counter() - started)
        refused, undecided = [], []
        for candidate, error in zip(candidates, errors, strict=True):
            if error is None:
                outcome.accepted.append(candidate.event_id)
            elif isinstance(error, StillDelivering) or (
                isinstance(error, DeliveryFailed) and self._undecided is not None
            ):  # it may be in a leader's log: decided later (with one broker, given up is refused)
                undecided.append((candidate.event_id, error.settled))
            else:
                refused.append(candidate.event_id)
        await self._dedup.confirm(project_id, outcome.accepted)
        # Forget the claims of refused events so that the client's retry is accepted, not
        # answered 409; an event still being delivered keeps its claim until Kafka decides.
        await self._dedup.release(project_id, refused)
        if undecided:
            self._settle_later(project_id, candidates[0].record.topic, undecided, sent_ms)
        outcome.failed = refused + [event_id for event_id, _settled in undecided]
        if outcome.failed:
            outcome.failure_reason = await self._refusals.explain(
                candidates[0].record.topic,
                [e.cause if isinstance(e, DeliveryFailed) else e for e in errors if e is not None],
            )

    def _settle_later(
        self, project_id: str, topic: str, undecided: list[tuple[str, asyncio.Future[None]]], sent_ms: int
    ) -> None:
        """Confirm or release each claim once the producer has settled its record, so that a retry
        meanwhile is told "in flight", and afterwards 409 (it landed) or 202 (it did not), never
        a second copy in Kafka."""
        task = asyncio.create_task(self._settle(project_id, topic, undecided, sent_ms))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(
        self, project_id: str, topic: str, undecided: list[tuple[str, asyncio.Future[None]]], sent_ms: int
    ) -> None:
        # A record the producer has not settled well after its delivery timeout never will be
        # (kafka-python can lose track of one in a failover): its fate is read from the log too.
        await asyncio.wait([settled for _event_id, settled in undecided], timeout=self._settle_timeout_s)
        landed = {
            e
            for e, settled in undecided
            if settled.done() and not settled.cancelled() and settled.exception() is None
        }
        given_up = [e for e, _settled in undecided if e not in landed]
        if given_up and self._undecided is not None:  # the producer gave up: ask the log itself
            landed |= await self._undecided.landed(project_id, topic, given_up, sent_ms)
        await self._dedup.confirm(project_id, sorted(landed))
        await self._dedup.release(project_id, [e for e, _settled in undecided if e not in landed])
        if landed:
            self._metrics.events.labels(project=project_id, outcome="landed_after_503").inc(len(landed))

    def _count(self, project_id: str, outcome: IngestOutcome) -> None:
        for name, count in (
            ("accepted", len(outcome.accepted)),
            ("duplicate", len(outcome.duplicates)),
            ("rejected", len(outcome.rejected)),
            ("retry", len(outcome.retry)),
            ("failed", len(outcome.failed)),
        ):
            if count:
                self._metrics.events.labels(project=project_id, outcome=name).inc(count)
