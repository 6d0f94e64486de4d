"""``analytics replay``: move a consumer group's offsets on one project's raw topic, so the group
reads those records again (the design's replayability)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from kafka.errors import KafkaError
from rich.table import Table

from analytics_pipeline.cli.output import console, fail, stdout
from analytics_pipeline.operations.replay import (
    OffsetMove,
    ReplayRefused,
    ReplayTarget,
    active_members,
    apply_replay,
    plan_replay,
)
from analytics_pipeline.settings import get_settings
from analytics_pipeline.timeutil import parse_rfc3339

NOT_REPLAYED = {
    "archival": "the archive already holds what the group read (put-once objects); to get history "
    "back into the lake, use `analytics archive restore`",
}


def moves_table(group: str, moves: list[OffsetMove], *, applied: bool) -> Table:
    title = f"{group}: offsets {'moved' if applied else 'that would move (dry run)'}"
    table = Table("topic", "partition", "before", "after", "held", "reads again", title=title)
    for m in moves:
        before = "-" if m.before is None else f"{m.before:,}"
        table.add_row(
            m.topic, str(m.partition), before, f"{m.after:,}", f"{m.earliest:,}..{m.end:,}", f"{m.replayed:,}"
        )
    return table


def replay(  # noqa: PLR0917 - typer maps each option to a parameter
    group: Annotated[
        str, typer.Option("--group", help="Consumer group, e.g. stream-processing or batch-etl.")
    ],
    project: Annotated[str, typer.Option("--project", help="Project id: its raw topic events.{project}.")],
    to_datetime: Annotated[
        str | None, typer.Option("--to-datetime", help="RFC 3339 time: the first record at or after it.")
    ] = None,
    to_earliest: Annotated[bool, typer.Option("--to-earliest", help="The oldest record still held.")] = False,
    shift: Annotated[
        int | None, typer.Option("--shift", help="Move each committed offset by N (negative: back).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the moves; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Reset a group's committed offsets on one project's raw topic and print them before and after.
    Refused while the group has active members. Every pipeline group takes a replay without
    counting anything twice: the stream worker's marks, the lake's position and eventId checks."""
    settings = get_settings()
    if group in NOT_REPLAYED:
        fail(f"group {group} is not replayed: {NOT_REPLAYED[group]}", code=2)
    try:
        when = parse_rfc3339(to_datetime) if to_datetime is not None else None
        target = ReplayTarget(when, to_earliest, shift)
    except (ValueError, ReplayRefused) as exc:
        fail(f"--to-datetime: {exc}" if isinstance(exc, ValueError) else str(exc), code=2)
    try:
        moves = plan_replay(settings.kafka_bootstrap_servers, group, project, target)
        members = active_members(settings.kafka_bootstrap_servers, group)
        if members and dry_run:
            console.print(
                f"[yellow]group {group} has active members ({', '.join(members[:5])}): stop them first[/]"
            )
        stamp = None if dry_run else apply_replay(settings.kafka_bootstrap_servers, group, moves)
    except ReplayRefused as exc:
        fail(str(exc), code=2)
    except KafkaError as exc:
        fail(f"Kafka at {settings.kafka_bootstrap_servers} did not answer: {exc}")
    if as_json:
        answer = {"group": group, "project": project, "dryRun": dry_run, "replayStamp": stamp}
        stdout.print_json(json.dumps({**answer, "partitions": [m.as_json() for m in moves]}))
        return
    stdout.print(moves_table(group, moves, applied=not dry_run))
    skipped = [m for m in moves if m.replayed < 0]
    if skipped:
        names = ", ".join(f"{m.topic}/{m.partition} ({-m.replayed:,})" for m in skipped)
        console.print(f"[yellow]warning: the group skips records it never read on {names}[/]")
    if not dry_run:
        total = sum(max(m.replayed, 0) for m in moves)
        console.print(
            f"group {group} will read {total:,} record(s) of events.{project} again when it resumes"
        )
