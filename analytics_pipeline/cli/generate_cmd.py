"""``analytics generate``: realistic synthetic load through the SDK."""

from __future__ import annotations

from typing import Annotated

import typer

from analytics_pipeline.cli.output import console, fail
from analytics_pipeline.loadgen.runner import run_generator
from analytics_pipeline.settings import get_settings


def generate(
    *,
    project: Annotated[str, typer.Option("--project", "-p", help="Project the events belong to.")],
    events: Annotated[int, typer.Option("--events", "-n", min=1, help="How many events to send.")] = 10_000,
    days: Annotated[
        int, typer.Option("--days", "-d", min=1, help="Spread timestamps over the last D days.")
    ] = 7,
    rate: Annotated[float | None, typer.Option("--rate", "-r", min=0.1, help="At most R events/s.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed: the same seed sends the same events.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="ANALYTICS_API_KEY", help="The project's key (default: $ANALYTICS_API_KEY)."),
    ] = None,
) -> None:
    """Send page views, carts, purchases and signups from a skewed user population."""
    settings = get_settings()
    if not api_key:
        fail(f"{project} needs an API key: --api-key or ANALYTICS_API_KEY (`analytics key create {project}`)")
    if days * 86_400 > settings.max_event_age_s:
        fail(f"--days {days} reaches past the server's window of {settings.max_event_age_s // 86_400} days")
    summary = run_generator(
        api_url=settings.ingest_api_url,
        api_key=api_key,
        events=events,
        days=days,
        rate=rate,
        seed=seed,
        console=console,
    )
    if summary.failed or summary.rejected:
        raise typer.Exit(1)
