"""``analytics archive``: what the raw-event archive in object storage holds."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError

from analytics_pipeline.archive.object_store import settings_archive_store
from analytics_pipeline.archive.report import archive_table
from analytics_pipeline.archive.summary import project_archive
from analytics_pipeline.cli.output import console, fail, stdout
from analytics_pipeline.settings import get_settings

app = typer.Typer(help="The raw-event archive in object storage (consumer group archival).")


@app.command("list")
def list_archive(
    project: Annotated[str, typer.Option("--project", help="Project id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Objects, offsets, records and bytes archived per partition of the project's raw topic."""
    settings = get_settings()
    try:
        archive = project_archive(settings_archive_store(settings), project)
    except (BotoCoreError, ClientError) as exc:
        fail(f"object storage at {settings.s3_endpoint_url} did not answer: {exc}")
    if as_json:
        stdout.print_json(json.dumps(archive.as_json()))
        return
    if not archive.partitions:
        console.print(f"nothing archived yet for {project} in s3://{archive.bucket}/")
        return
    stdout.print(archive_table(archive))
