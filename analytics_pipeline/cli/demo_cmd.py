"""``analytics demo``: what `make demo` runs once the stack is up."""

from __future__ import annotations

from typing import Annotated

import typer

from analytics_pipeline.cli.output import fail, stdout
from analytics_pipeline.demo import run_demo
from analytics_pipeline.settings import get_settings


def demo(
    events: Annotated[int, typer.Option(min=1, help="Synthetic events to send.")] = 5_000,
    live_seconds: Annotated[float, typer.Option(min=1, help="How long to send live events.")] = 20.0,
    lakehouse: Annotated[
        bool, typer.Option(help="Wait for Dagster to carry the events into the lake and show it.")
    ] = True,
) -> None:
    """Create the demo project, send a realistic load, show where it landed and the live metrics.

    Exits non-zero when a stage failed or timed out, so `make demo` fails with it."""
    failed = run_demo(get_settings(), stdout, events, live_seconds, lakehouse=lakehouse)
    if failed:
        fail(f"the demo did not complete: {'; '.join(failed)}")
