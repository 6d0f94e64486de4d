"""``analytics generate``: realistic synthetic load through the SDK."""

from __future__ import annotations

from typing import Annotated

import typer

from analytics_pipeline.cli.output import console, fail, warn
from analytics_pipeline.loadgen.runner import run_generator
from analytics_pipeline.metadata.api_keys import hash_api_key
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.settings import get_settings


def generate(
    *,
    project: Annotated[
        str | None,
        typer.Option("--project", "-p", help="The key's project, checked against the key (optional)."),
    ] = None,
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
    """Send page views, carts, purchases and signups from a skewed user population to the key's project."""
    settings = get_settings()
    if not api_key:
        named = project or "PROJECT"
        fail(f"an API key is needed: --api-key or ANALYTICS_API_KEY (`analytics key create {named}`)")
    if days * 86_400 > settings.max_event_age_s:
        fail(f"--days {days} reaches past the server's window of {settings.max_event_age_s // 86_400} days")
    key_project = project_of_key(settings.metadata_database_url, api_key)
    if key_project is None:
        warn("the API key is not live in this metadata store (ANALYTICS_METADATA_URL); the server decides")
    elif project is not None and project != key_project:
        fail(
            f"the API key belongs to project {key_project!r}, not {project!r}: "
            f"use {project}'s key, or drop --project"
        )
    else:
        console.print(f"sending to project [bold]{key_project}[/]")
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


def project_of_key(metadata_url: str, api_key: str) -> str | None:
    """The project a live key writes to, from the metadata store the ingestion service reads."""
    store = MetadataStore(metadata_url)
    try:
        return store.project_for_key_hash(hash_api_key(api_key))
    finally:
        store.close()
