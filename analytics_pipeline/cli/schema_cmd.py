"""``analytics schema register``: versioned JSON Schemas for event properties."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from jsonschema.exceptions import SchemaError

from analytics_pipeline.cli.output import console, fail, warn
from analytics_pipeline.cli.project_cmd import open_store
from analytics_pipeline.events.envelope import EVENT_TYPE_PATTERN
from analytics_pipeline.events.property_schema import compile_schema
from analytics_pipeline.ingest.schemas import publish_schema
from analytics_pipeline.metadata.store import MetadataError, StoredSchema
from analytics_pipeline.redis_guard import GuardedRedis, RedisUnavailable
from analytics_pipeline.settings import Settings, get_settings

app = typer.Typer(help="Register JSON Schemas that event properties must satisfy.")


@app.command("register")
def register(
    project_id: Annotated[str, typer.Argument(help="Project id.")],
    event_type: Annotated[str, typer.Argument(help="Event type, e.g. purchase.")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A JSON Schema (draft 2020-12 by default).")
    ],
) -> None:
    """Store FILE as the next version of the schema for EVENT_TYPE; the service enforces it at once."""
    if not re.fullmatch(EVENT_TYPE_PATTERN, event_type):
        fail(f"event type {event_type!r} must match {EVENT_TYPE_PATTERN}")
    try:
        json_schema = json.loads(file.read_text())
        compile_schema(json_schema)
    except json.JSONDecodeError as exc:
        fail(f"{file} is not JSON: {exc}")
    except SchemaError as exc:
        fail(f"{file} is not a valid JSON Schema: {exc.message}")
    settings = get_settings()
    store = open_store()
    try:
        version = store.register_schema(project_id, event_type, json_schema)
    except MetadataError as exc:
        fail(str(exc))
    finally:
        store.close()
    stored = StoredSchema(project_id, event_type, version, json_schema)
    if not asyncio.run(_publish(settings, stored)):
        delay = settings.schema_miss_ttl_s
        warn(f"Redis unreachable; running services apply version {version} within {delay} s")
    console.print(f"registered {project_id}/{event_type} version {version}")


async def _publish(settings: Settings, stored: StoredSchema) -> bool:
    redis = GuardedRedis.from_settings(settings)
    try:
        await publish_schema(redis, stored, settings)
    except RedisUnavailable:
        return False
    finally:
        await redis.close()
    return True
