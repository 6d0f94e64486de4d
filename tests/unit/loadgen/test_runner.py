"""run_generator end to end against a fake ingestion API."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import httpx
from rich.console import Console

from analytics_pipeline.loadgen.runner import GeneratorSummary, run_generator

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class RememberingServer:
    """Accepts each eventId once and answers repeats as duplicates, as the real dedup does."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        ids = [event["eventId"] for event in json.loads(request.content)["events"]]
        new = [i for i in ids if i not in self.seen]
        self.seen.update(ids)
        return httpx.Response(
            202, json={"accepted": new, "duplicates": sorted(set(ids) - set(new)), "rejected": []}
        )


def run(handler: object, *, events: int = 120, rate: float | None = None) -> tuple[GeneratorSummary, str]:
    output = io.StringIO()
    summary = run_generator(
        api_url="http://ingest.test",
        api_key="ak_test",
        events=events,
        days=2,
        rate=rate,
        seed=11,
        console=Console(file=output, width=160),
        now=NOW,
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
    )
    return summary, output.getvalue()


def test_every_event_is_sent_and_summed_up() -> None:
    summary, output = run(RememberingServer())
    assert (summary.sent, summary.delivered, summary.failed, summary.rejected) == (120, 120, 0, 0)
    assert sum(summary.by_type.values()) == 120
    assert summary.by_type["page_view"] > summary.by_type.get("signup", 0)
    assert summary.rate > 0
    assert "page_view" in output
    assert "delivered" in output


def test_a_rerun_with_the_same_seed_is_answered_as_duplicates() -> None:
    server = RememberingServer()
    run(server)
    summary, _ = run(server)
    assert (summary.delivered, summary.duplicates) == (0, 120)


def test_a_rate_limit_slows_the_run_down() -> None:
    summary, _ = run(RememberingServer(), events=50, rate=1_000)
    assert summary.elapsed_s >= 0.045


def test_failures_are_counted_and_explained() -> None:
    def unauthorized(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unauthorized", "message": "unknown API key"})

    summary, output = run(unauthorized, events=10)
    assert (summary.delivered, summary.failed) == (0, 10)
    assert summary.problems == ("failed: HTTP 401 unauthorized: unknown API key",)
    assert "unknown API key" in output
