"""``analytics topics offsets|partitions``: where a project's events sit in Kafka, per partition,
and more partitions for its raw topic."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from analytics_pipeline.cli.output import fail, stdout
from analytics_pipeline.kafka_io.admin import PartitionOffsets, add_partitions, topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import get_settings

app = typer.Typer(help="Inspect the Kafka topics of a project.")


def offsets_table(topic: str, offsets: list[PartitionOffsets]) -> Table:
    total = sum(o.messages for o in offsets) or 1
    table = Table(title=f"{topic}: offsets per partition")
    for column in ("partition", "earliest", "latest", "messages", "share"):
        table.add_column(column, justify="right")
    for entry in offsets:
        share = entry.messages / total
        bar = "█" * round(share * 30)
        table.add_row(
            str(entry.partition),
            str(entry.earliest),
            str(entry.latest),
            str(entry.messages),
            f"{bar} {share:.0%}",
        )
    table.add_row("all", "", "", str(sum(o.messages for o in offsets)), "", style="bold")
    return table


@app.command("offsets")
def offsets(
    project_id: Annotated[str, typer.Argument(help="Project id.")],
    topic: Annotated[str | None, typer.Option(help="Another topic instead of events.{project_id}.")] = None,
) -> None:
    """Earliest and latest offset of every partition of the project's raw topic."""
    name = topic or raw_topic(project_id)
    try:
        found = topic_offsets(get_settings().kafka_bootstrap_servers, name)
    except Exception as exc:  # noqa: BLE001 - shown to the operator
        fail(f"cannot read offsets of {name}: {exc}")
    if not found:
        fail(f"topic {name} does not exist")
    stdout.print(offsets_table(name, found))


@app.command("partitions")
def partitions(
    project_id: Annotated[str, typer.Argument(help="Project id.")],
    count: Annotated[int, typer.Argument(help="Partitions the raw topic should have (more than now).")],
) -> None:
    """Grow the project's raw topic to COUNT partitions (Kafka cannot shrink a topic). Every consumer
    group picks the new partitions up from their first offset; new events spread over all of them."""
    name = raw_topic(project_id)
    settings = get_settings()
    try:
        before = add_partitions(settings.kafka_bootstrap_servers, name, count)
    except ValueError as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - shown to the operator
        fail(f"cannot add partitions to {name}: {exc}")
    if before == count:
        stdout.print(f"{name} already has {count} partitions")
        return
    stdout.print(f"{name}: {before} -> {count} partitions")
    stdout.print(offsets_table(name, topic_offsets(settings.kafka_bootstrap_servers, name)))
