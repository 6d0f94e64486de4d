"""A generated load for the lakehouse, written straight into raw topics, and what it should become.

The expectations are computed here, independently of the Spark code: which records are valid,
which are quarantined and why, the unique events per project and day, and the daily metrics.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from analytics_pipeline.events.quality_rules import DEFAULT_CURRENCIES
from tests.support.raw_events import RawWriter, raw_record

PURCHASE_SCHEMA = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {"amount": {"type": "number", "minimum": 0}, "currency": {"type": "string"}},
}
CURRENCIES = ("USD", "EUR", "GBP")
TYPES = ("page_view", "signup", "purchase")


@dataclass
class DayMetrics:
    events: int = 0
    users: set[str] = field(default_factory=set)
    purchases: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    revenue: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


@dataclass
class ExpectedLake:
    """What the tables must hold for everything written so far."""

    records: int = 0
    valid_records: int = 0  # including repeats of one event
    events: dict[tuple[str, str], date] = field(default_factory=dict)  # (project, eventId) -> day
    quarantined: Counter[str] = field(default_factory=Counter)  # reason -> records
    metrics: defaultdict[tuple[date, str], DayMetrics] = field(
        default_factory=lambda: defaultdict(DayMetrics)
    )  # (day, project) -> what daily_metrics must say

    def count_event(self, project_id: str, event: dict[str, Any], day: date) -> None:
        self.valid_records += 1
        if (project_id, event["eventId"]) in self.events:
            return
        self.events[(project_id, event["eventId"])] = day
        m = self.metrics[(day, project_id)]
        m.events += 1
        m.users.add(event["userId"])
        m.by_type[event["eventType"]] += 1
        if event["eventType"] == "purchase":
            m.purchases += 1
            props = event["properties"]
            if isinstance(props.get("amount"), int | float) and isinstance(props.get("currency"), str):
                m.revenue[props["currency"]] += Decimal(str(props["amount"]))

    def events_on(self, day: date) -> int:
        return sum(1 for d in self.events.values() if d == day)


def purchase_problem(event: dict[str, Any], *, schema: bool) -> str | None:
    """The first reason a purchase is quarantined for, written out here by hand: PURCHASE_SCHEMA's
    when it was accepted under it, else the row-level quality rules' (for the amounts and
    currencies these tests send: numbers or nothing, strings or nothing)."""
    properties = event["properties"]
    amount, currency = properties.get("amount"), properties.get("currency", "<missing>")
    if schema:
        return f"properties.amount: {amount} is less than the minimum of 0" if amount < 0 else None
    if amount is None:
        return "purchase_expectations: purchase amount is a number (got <missing>)"
    if amount < 0:
        return f"purchase_expectations: purchase amount >= 0 (got {amount:g})"
    if currency not in DEFAULT_CURRENCIES:
        return f"purchase_expectations: purchase currency known (got {currency})"
    return None


class LakeLoad:
    """Writes events into projects' raw topics and keeps ``ExpectedLake`` in step.

    Projects in ``with_schema`` are assumed to have PURCHASE_SCHEMA registered for ``purchase``.
    """

    def __init__(self, bootstrap: str, with_schema: set[str], seed: int = 7) -> None:
        self.writer = RawWriter(bootstrap)
        self.with_schema = with_schema
        self.expected = ExpectedLake()
        self.rng = random.Random(seed)
        self.sent: list[tuple[str, bytes, bytes, dict[str, Any], date]] = []
        self.resent: set[str] = set()  # eventIds written more than once

    def event(self, day: date, event_type: str | None = None, **properties: Any) -> dict[str, Any]:
        event_type = event_type or self.rng.choice(TYPES)
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            seconds=self.rng.randrange(86_400)
        )
        if event_type == "purchase" and not properties:
            amount = round(self.rng.uniform(1, 200), 2)
            properties = {"amount": amount, "currency": self.rng.choice(CURRENCIES)}
        return {
            "eventId": f"evt_{uuid.uuid4().hex}",
            "eventType": event_type,
            "userId": f"user-{self.rng.randrange(40)}",
            "timestamp": moment.isoformat().replace("+00:00", "Z"),
            "properties": properties,
        }

    def send(self, project_id: str, event: dict[str, Any]) -> None:
        """A record as the ingestion service writes it (stamped with schema version 1 where the
        project has PURCHASE_SCHEMA); counted as valid unless that schema or a quality rule says no."""
        stamped = project_id in self.with_schema and event["eventType"] == "purchase"
        key, value = raw_record(project_id, event, schema_version=1 if stamped else None)
        self.writer.bytes(project_id, key, value, flush=False)
        self.expected.records += 1
        day = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).date()
        self.sent.append((project_id, key, value, event, day))
        reason = purchase_problem(event, schema=stamped) if event["eventType"] == "purchase" else None
        if reason is not None:
            self.expected.quarantined[reason] += 1
            return
        self.expected.count_event(project_id, event, day)

    def resend(self, index: int) -> None:
        """The same record again (a producer retry): one more valid record, no new event."""
        project_id, key, value, event, day = self.sent[index]
        self.writer.bytes(project_id, key, value, flush=False)
        self.expected.records += 1
        self.expected.count_event(project_id, event, day)
        self.resent.add(event["eventId"])

    def send_bad(self, project_id: str, key: bytes | None, value: bytes, reason: str) -> None:
        self.writer.bytes(project_id, key, value, flush=False)
        self.expected.records += 1
        self.expected.quarantined[reason] += 1

    def mixed(self, project_ids: list[str], days: list[date], events: int) -> None:
        """``events`` good events spread over projects and days, some repeats and some bad records."""
        for _ in range(events):
            self.send(self.rng.choice(project_ids), self.event(self.rng.choice(days)))
        for index in self.rng.sample(range(len(self.sent)), k=max(1, events // 20)):
            self.resend(index)
        first = project_ids[0]
        self.send_bad(first, b"evt-x", b"{not json", "value is not UTF-8 JSON")
        good = self.event(days[0])
        _, value = raw_record(first, good)
        self.send_bad(first, b"another-key", value, "key is not the eventId")
        for project_id in project_ids:  # barred by the schema where there is one, by the rules elsewhere
            self.send(project_id, self.event(days[-1], "purchase", amount=-5, currency="USD"))

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
