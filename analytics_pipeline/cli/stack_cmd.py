"""``analytics stack up|down|status|jars``: the local stack, from Redis to Dagster."""

from __future__ import annotations

import typer
from rich.table import Table

from analytics_pipeline.cli.output import console, fail, stdout
from analytics_pipeline.settings import get_settings
from analytics_pipeline.stack import stack
from analytics_pipeline.stack.jars import JVM_POMS, ensure_jars
from analytics_pipeline.stack.services import ServiceStatus, StackError

app = typer.Typer(help="Start, stop and inspect the local stack (no Docker: real processes, pid files).")


def _table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="analytics stack")
    for column in ("service", "address", "ownership", "healthy", "pid"):
        table.add_column(column)
    for status in statuses:
        healthy = "[green]yes[/]" if status.healthy else "[red]no[/]"
        table.add_row(status.name, status.address, status.ownership.value, healthy, str(status.pid or "-"))
    return table


@app.command()
def up() -> None:
    """Start whatever is not running and return once everything is healthy."""
    settings = get_settings()
    try:
        with console.status("starting Redis, Kafka, the S3 server, the APIs, the consumers and Dagster ..."):
            started = stack.up(settings)
    except StackError as exc:
        fail(str(exc))
    stdout.print(_table(started.statuses))
    for note in started.notes:
        stdout.print(note)


@app.command()
def jars() -> None:
    """Fetch the JVM artifacts with Maven (Kafka, the S3 server; Delta, Kafka source, S3A for Spark)."""
    settings = get_settings()
    for name in JVM_POMS:
        try:
            with console.status(f"fetching {name} jars with mvn ..."):
                folder = ensure_jars(settings.jar_root, name)
        except StackError as exc:
            fail(str(exc))
        console.print(f"{name} jars: {folder} ({len(list(folder.glob('*.jar')))} jars)")


@app.command()
def down() -> None:
    """Stop only what `up` started (by its pid files); leave anything else alone."""
    for name, stopped in stack.down(get_settings()):
        stdout.print(f"{name}: {'stopped' if stopped else 'not started by this stack'}")


@app.command()
def status() -> None:
    """Show what runs, who started it, and whether it is healthy."""
    statuses = stack.status(get_settings())
    stdout.print(_table(statuses))
    if not all(s.healthy for s in statuses):
        raise typer.Exit(3)
