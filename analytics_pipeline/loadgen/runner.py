"""``analytics generate``: send synthetic events through the SDK, show progress, sum up."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

import httpx
from rich.console import Console

from analytics_pipeline.loadgen.display import LiveProgress, summary_table
from analytics_pipeline.loadgen.pacing import Pacer
from analytics_pipeline.loadgen.synthetic import DEFAULT_USERS, SyntheticEvent, generate_events
from analytics_pipeline.sdk import AnalyticsClient, DeliveryReport, QueueFullError
from analytics_pipeline.timeutil import utc_now

MAX_PROBLEMS = 5


@dataclass(frozen=True)
class GeneratorSummary:
    requested: int
    sent: int
    delivered: int
    duplicates: int
    rejected: int
    failed: int
    retries: int
    by_type: dict[str, int]
    elapsed_s: float
    problems: tuple[str, ...]  # a few distinct reasons for rejected or failed events

    @property
    def rate(self) -> float:
        """Events sent per second, the final flush included."""
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def run_generator(
    *,
    api_url: str,
    api_key: str,
    events: int,
    days: int,
    rate: float | None,
    seed: int | None,
    console: Console | None,
    users: int = DEFAULT_USERS,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> GeneratorSummary:
    """Send ``events`` synthetic events spread over the last ``days`` days, at most ``rate`` per second.

    The server refuses timestamps older than its ``max_event_age_s`` (30 days by default), so
    ``days`` beyond that yields rejected events. ``transport`` lets tests stand in for the server.
    """
    console = console or Console()
    pacer = Pacer(rate)
    generated = generate_events(events, now=now or utc_now(), days=days, users=users, seed=seed)
    by_type: Counter[str] = Counter()
    started = time.monotonic()
    with (
        LiveProgress(console, total=events) as progress,
        AnalyticsClient(api_key, api_url, transport=transport, on_result=progress.on_result) as client,
    ):
        for sent, event in enumerate(generated, start=1):
            pacer.wait()
            _track(client, event)
            by_type[event.event_type] += 1
            progress.sent(sent)
        client.flush()
        report = client.report()
    summary = _summarise(report, events, by_type, time.monotonic() - started)
    console.print(summary_table(summary))
    for problem in summary.problems:
        console.print(problem, style="yellow", markup=False, highlight=False)
    return summary


def _track(client: AnalyticsClient, event: SyntheticEvent) -> None:
    """Back-pressure: while the server lags, wait for room rather than give up on the run."""
    while True:
        try:
            client.track(
                event.event_type,
                event.user_id,
                event.properties,
                event_id=event.event_id,
                timestamp=event.timestamp,
            )
        except QueueFullError:
            continue
        return


def _summarise(
    report: DeliveryReport, requested: int, by_type: Counter[str], elapsed_s: float
) -> GeneratorSummary:
    return GeneratorSummary(
        requested=requested,
        sent=sum(by_type.values()),
        delivered=report.delivered,
        duplicates=report.duplicates,
        rejected=len(report.rejected),
        failed=len(report.failed),
        retries=report.retries,
        by_type=dict(by_type),
        elapsed_s=elapsed_s,
        problems=_problems(report),
    )


def _problems(report: DeliveryReport) -> tuple[str, ...]:
    """The first few distinct reasons, so that a run with a wrong key or bad events says why."""
    messages = chain(
        (f"rejected: {error.field} {error.message}" for event in report.rejected for error in event.errors),
        (f"failed: {event.error}" for event in report.failed),
    )
    distinct: dict[str, None] = {}
    for message in messages:
        if len(distinct) == MAX_PROBLEMS:
            break
        distinct.setdefault(message)
    return tuple(distinct)
