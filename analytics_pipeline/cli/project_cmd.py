"""``analytics project ...`` and ``analytics key ...``: projects and their API keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from analytics_pipeline.cli.output import console, fail, stdout, warn
from analytics_pipeline.metadata.api_keys import display_prefix
from analytics_pipeline.metadata.store import MetadataError, MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.settings import get_settings

project_app = typer.Typer(help="Create and list projects (each has its own topics and API keys).")
key_app = typer.Typer(help="Mint and revoke API keys; only their SHA-256 is stored.")


def open_store() -> MetadataStore:
    return MetadataStore(get_settings().metadata_database_url)


@project_app.command("create")
def create_project(
    name: Annotated[
        str, typer.Argument(help="Display name; the id is derived from it (lower-case, dashes).")
    ],
    project_id: Annotated[
        str | None, typer.Option("--id", help="Explicit project id instead of the derived one.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"project_id", "api_key"} on stdout.')
    ] = False,
) -> None:
    """Create a project, its Kafka topics and an API key (printed once, stored only as a hash)."""
    settings = get_settings()
    store = open_store()
    try:
        created = provision_project(settings, store, name, project_id)
    except MetadataError as exc:
        fail(str(exc))
    finally:
        store.close()
    if created.topics_error:
        warn(
            f"Kafka topics not created ({created.topics_error}); the ingest service creates them on first use"
        )
    if as_json:
        stdout.print_json(json.dumps({"project_id": created.project_id, "api_key": created.api_key}))
        return
    topics = ", ".join(created.topics_created) or "already present"
    origin = "given with --id" if project_id else f"derived from {name!r}; --id chooses another"
    stdout.print(
        Panel.fit(
            f"project id [bold]{escape(created.project_id)}[/] ({escape(origin)})\n"
            f"topics: {topics}\n"
            f"API key: [bold green]{created.api_key}[/] (prefix {display_prefix(created.api_key)})\n"
            "[dim]Store it now: it is shown once and only its hash is kept.[/]",
            title="project created",
        )
    )


@project_app.command("list")
def list_projects() -> None:
    """List the projects in the metadata store."""
    store = open_store()
    table = Table("project id", "name", "created")
    for project in store.list_projects():
        table.add_row(project.project_id, project.name, project.created_at.isoformat(timespec="seconds"))
    store.close()
    stdout.print(table)


@key_app.command("create")
def create_key(
    project_id: Annotated[str, typer.Argument(help="The project the key will write to.")],
    label: Annotated[str, typer.Option(help="A note to tell keys apart (e.g. the app using it).")] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"project_id", "api_key"} on stdout.')
    ] = False,
) -> None:
    """Mint another key for a project (rotation, one key per app)."""
    store = open_store()
    try:
        api_key = store.create_api_key(project_id, label)
    except MetadataError as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        stdout.print_json(json.dumps({"project_id": project_id, "api_key": api_key}))
    else:
        stdout.print(
            f"API key for {project_id}: [bold green]{api_key}[/] (shown once)\n"
            f"[dim]its prefix {display_prefix(api_key)} names it in `analytics key list` and `key revoke`[/]"
        )


@key_app.command("list")
def list_keys(
    project_id: Annotated[str | None, typer.Argument(help="Only this project's keys.")] = None,
    include_revoked: Annotated[bool, typer.Option("--all", help="Revoked keys too.")] = False,
) -> None:
    """The keys by their prefix (the secret itself is never stored), with label and dates."""
    store = open_store()
    try:
        keys = store.list_api_keys(project_id, include_revoked=include_revoked)
    finally:
        store.close()
    table = Table("prefix", "project", "label", "created", "revoked")
    for key in keys:
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        table.add_row(
            key.prefix, key.project_id, key.label, key.created_at.isoformat(timespec="seconds"), revoked
        )
    stdout.print(table)


@key_app.command("revoke")
def revoke_key(
    prefix: Annotated[
        str,
        typer.Argument(help="The key's prefix as `analytics key list` shows it (ak_AbCdEfG), or the key."),
    ],
) -> None:
    """Revoke one key; services stop accepting it within the key cache TTL. An ambiguous prefix is refused."""
    store = open_store()
    try:
        revoked = store.revoke_api_key(prefix)
    except MetadataError as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(f"revoked key {revoked.prefix} of project {revoked.project_id}")
