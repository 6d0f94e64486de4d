"""``analytics dlq``: the dead letters a project holds, and sending them back after a fix."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from kafka.errors import KafkaError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from analytics_pipeline.cli.output import console, fail, stdout
from analytics_pipeline.deadletters.letters import DeadLetter, parse_letter_id, read_dead_letters
from analytics_pipeline.deadletters.redrive import RedriveRefused, redrive
from analytics_pipeline.deadletters.redrive_log import Redrive, RedriveLog
from analytics_pipeline.settings import Settings, get_settings

app = typer.Typer(help="Dead letters: records the stream worker could not process (events.dlq.{project}).")

Project = Annotated[str, typer.Option("--project", help="Project id.")]


def _letters(settings: Settings, project: str) -> list[DeadLetter]:
    try:
        return read_dead_letters(settings.kafka_bootstrap_servers, project)
    except (KafkaError, RuntimeError) as exc:
        fail(f"Kafka at {settings.kafka_bootstrap_servers} did not give the dead letters: {exc}")


def _state(redrive_row: Redrive | None) -> str:
    if redrive_row is None:
        return "held"
    if redrive_row.confirmed:
        return f"redriven to partition {redrive_row.target_partition}@{redrive_row.target_offset}"
    return "claimed by a redrive that stopped"


@app.command("list")
def list_letters(
    project: Project,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only letters whose stage is R or whose reason contains R.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Position, stage, reason, attempts, time and a payload preview of each dead letter."""
    settings = get_settings()
    letters = _letters(settings, project)
    if reason:
        wanted = reason.lower()
        letters = [x for x in letters if x.stage == wanted or wanted in x.reason.lower()]
    log = RedriveLog(settings.metadata_database_url).of_project(project)
    if as_json:
        rows = [{**x.as_json(), "state": _state(log.get(x.letter_id))} for x in letters]
        stdout.print_json(json.dumps({"project": project, "letters": rows}))
        return
    if not letters:
        console.print(f"no dead letters for {project}" + (f" matching {reason!r}" if reason else ""))
        return
    table = Table(
        "id", "stage", "reason", "attempts", "failed at", "source", "state", "payload", title=project
    )
    for x in letters:
        table.add_row(
            x.letter_id,
            x.stage,
            escape(x.reason[:60]),
            str(x.attempts),
            x.failed_at,
            x.source,
            _state(log.get(x.letter_id)),
            escape(x.preview(40)),
        )
    stdout.print(table)


@app.command("show")
def show_letter(
    project: Project,
    letter_id: Annotated[str, typer.Argument(help="PARTITION-OFFSET, as `analytics dlq list` shows it.")],
) -> None:
    """One dead letter whole: its key, value and every header."""
    settings = get_settings()
    try:
        wanted = "{}-{}".format(*parse_letter_id(letter_id))
    except ValueError as exc:
        fail(str(exc))
    found = [x for x in _letters(settings, project) if x.letter_id == wanted]
    if not found:
        fail(f"no dead letter {wanted} in {project} (see `analytics dlq list --project {project}`)")
    state = _state(RedriveLog(settings.metadata_database_url).of_project(project).get(wanted))
    stdout.print_json(json.dumps({**found[0].as_json(whole=True), "state": state}))


@app.command("redrive")
def redrive_letters(
    project: Project,
    ids: Annotated[list[str] | None, typer.Option("--id", help="A letter to send back (repeatable).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every letter not redriven yet.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be sent; send nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Send dead letters back to the project's raw topic after a fix. A letter is sent at most
    once, however often this runs; each redrive is recorded in the metadata database."""
    if every == bool(ids):
        fail("name the letters with --id (repeatable), or pass --all", code=2)
    settings = get_settings()
    with Progress(
        TextColumn("redriving"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("redrive", total=None)
        try:
            report = redrive(
                settings,
                project,
                None if every else ids,
                dry_run=dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except (RedriveRefused, ValueError) as exc:
            fail(str(exc), code=2)
        except KafkaError as exc:
            fail(f"Kafka at {settings.kafka_bootstrap_servers} refused: {exc}")
    if as_json:
        stdout.print_json(json.dumps({**report.as_json(), "dryRun": dry_run}))
        return
    verb = "would send" if dry_run else "sent"
    console.print(
        f"{project}: {verb} {len(report.sent)} of {report.chosen} letter(s) back to events.{project}"
    )
    if report.already:
        console.print(f"  {len(report.already)} already redriven before: not sent again")
    if report.recovered:
        console.print(
            f"  {len(report.recovered)} sent by a redrive that stopped: found in Kafka, not sent again"
        )
