"""``analytics status``: services, consumer-group lag per partition, and alarms on one screen."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.live import Live

from analytics_pipeline.cli.output import console, stdout
from analytics_pipeline.operations.status import collect, render
from analytics_pipeline.settings import get_settings


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl-C.")] = False,
    interval_s: Annotated[float, typer.Option("--interval", help="Seconds between refreshes.")] = 5.0,
) -> None:
    """Every service of the stack, each consumer group's end, committed offset, lag and events/s
    per raw-topic partition, and the alarms (hot partitions, dead letters, replicas out of sync).
    Exits 3 when an alarm is raised."""
    settings = get_settings()
    if watch:
        with Live(render(collect(settings)), console=console, refresh_per_second=1) as live:
            try:
                while True:
                    time.sleep(interval_s)
                    live.update(render(collect(settings)))
            except KeyboardInterrupt:
                return
    report = collect(settings)
    if as_json:
        stdout.print_json(json.dumps(report.as_json()))
    else:
        stdout.print(render(report))
    if report.alarms:
        raise typer.Exit(3)
