"""Durable metadata: SQLite by default (nothing to start), PostgreSQL by configuration."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slugify import slugify
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from analytics_pipeline.metadata.api_keys import (
    DISPLAY_PREFIX_CHARS,
    display_prefix,
    hash_api_key,
    mint_api_key,
)
from analytics_pipeline.metadata.engine import create_metadata_engine
from analytics_pipeline.metadata.tables import (
    api_keys,
    event_schemas,
    projects,
)

PROJECT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


class MetadataError(Exception):
    """A request the metadata store refuses; the message says why and what to do."""


@dataclass(frozen=True)
class Project:
    project_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class StoredSchema:
    project_id: str
    event_type: str
    version: int
    json_schema: dict[str, Any]


@dataclass(frozen=True)
class StoredKey:
    """What may be shown of a key: its prefix, never the secret."""

    key_hash: str
    prefix: str
    project_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _stored_schema(row: Any) -> StoredSchema:
    return StoredSchema(row.project_id, row.event_type, row.version, json.loads(row.json_schema))


def _stored_key(row: Any) -> StoredKey:
    return StoredKey(
        key_hash=row.key_hash,
        prefix=row.key_prefix,
        project_id=row.project_id,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def project_id_from_name(name: str) -> str:
    """Lower-case, dash-separated id that is also safe inside a Kafka topic name; other scripts
    are transliterated ("Ünïcode Shop" -> "unicode-shop", "商店" -> "shang-dian")."""
    slug = slugify(name, max_length=48, word_boundary=True, save_order=True)
    if not PROJECT_ID_PATTERN.fullmatch(slug):
        raise MetadataError(
            f"cannot derive a project id from {name!r}: give one with --id (letters, digits and dashes)"
        )
    return slug


def _now() -> datetime:
    return datetime.now(UTC)


class MetadataStore:
    """Projects, API key hashes and schema versions behind one SQLAlchemy engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_metadata_engine(url)

    def close(self) -> None:
        self._engine.dispose()

    # --- projects ---
    def create_project(self, name: str, project_id: str | None = None) -> Project:
        project_id = project_id or project_id_from_name(name)
        if not PROJECT_ID_PATTERN.fullmatch(project_id):
            raise MetadataError(f"invalid project id {project_id!r}: want {PROJECT_ID_PATTERN.pattern}")
        project = Project(project_id=project_id, name=name, created_at=_now())
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(projects).values(**project.__dict__))
        except IntegrityError as exc:
            raise MetadataError(f"project {project_id!r} already exists") from exc
        return project

    def get_project(self, project_id: str) -> Project | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(projects).where(projects.c.project_id == project_id)).first()
        return Project(**row._mapping) if row else None

    def list_projects(self) -> list[Project]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(projects).order_by(projects.c.project_id)).all()
        return [Project(**row._mapping) for row in rows]

    def require_project(self, project_id: str) -> Project:
        project = self.get_project(project_id)
        if project is None:
            raise MetadataError(f"no project {project_id!r}: create it with `analytics project create`")
        return project

    # --- API keys ---
    def create_api_key(self, project_id: str, label: str = "") -> str:
        """Mint a key for the project and store its hash; the plaintext is returned once."""
        self.require_project(project_id)
        api_key = mint_api_key()
        with self._engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    key_hash=hash_api_key(api_key),
                    key_prefix=display_prefix(api_key),
                    project_id=project_id,
                    label=label,
                    created_at=_now(),
                )
            )
        return api_key

    def project_for_key_hash(self, key_hash: str) -> str | None:
        query = select(api_keys.c.project_id).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        with self._engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def list_api_keys(
        self, project_id: str | None = None, *, include_revoked: bool = False
    ) -> list[StoredKey]:
        """Keys by their displayed prefix (never the secret), oldest first."""
        query = select(api_keys).order_by(api_keys.c.project_id, api_keys.c.created_at)
        if project_id is not None:
            query = query.where(api_keys.c.project_id == project_id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_stored_key(row) for row in rows]

    def revoke_api_key(self, key_or_prefix: str) -> StoredKey:
        """Revoke the one live key that is, or starts with, the text; refuse none or several."""
        live = self.list_api_keys()
        if len(key_or_prefix) > DISPLAY_PREFIX_CHARS:
            matches = [k for k in live if k.key_hash == hash_api_key(key_or_prefix)]
        else:
            matches = [k for k in live if k.prefix.startswith(key_or_prefix)]
        if not matches:
            raise MetadataError(
                f"no live key starts with {key_or_prefix!r}: "
                "`analytics key list` shows the live keys' prefixes"
            )
        if len(matches) > 1:
            shown = ", ".join(f"{k.prefix} ({k.project_id})" for k in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise MetadataError(
                f"{key_or_prefix!r} matches {len(matches)} live keys: {shown}{more}; "
                "give one whole prefix as `analytics key list` shows it"
            )
        target = matches[0]
        revoked_at = _now()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_hash == target.key_hash, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=revoked_at)
            ).rowcount
        if not done:
            raise MetadataError(f"key {target.prefix} was revoked meanwhile")
        return replace(target, revoked_at=revoked_at)

    # --- schemas ---
    def register_schema(self, project_id: str, event_type: str, json_schema: dict[str, Any]) -> int:
        """Store the schema as the next version for the event type; returns that version."""
        self.require_project(project_id)
        for _attempt in range(5):  # two writers racing for one version number: retry
            try:
                with self._engine.begin() as conn:
                    latest = conn.execute(
                        select(func.max(event_schemas.c.version)).where(
                            event_schemas.c.project_id == project_id,
                            event_schemas.c.event_type == event_type,
                        )
                    ).scalar_one()
                    version = (latest or 0) + 1
                    conn.execute(
                        insert(event_schemas).values(
                            project_id=project_id,
                            event_type=event_type,
                            version=version,
                            json_schema=json.dumps(json_schema, sort_keys=True),
                            created_at=_now(),
                        )
                    )
                return version
            except IntegrityError:
                continue
        raise MetadataError(f"could not allocate a schema version for {project_id}/{event_type}")

    def latest_schema(self, project_id: str, event_type: str) -> StoredSchema | None:
        query = (
            select(event_schemas)
            .where(
                event_schemas.c.project_id == project_id,
                event_schemas.c.event_type == event_type,
            )
            .order_by(event_schemas.c.version.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _stored_schema(row) if row is not None else None

    def all_schemas(self, project_ids: Iterable[str]) -> list[StoredSchema]:
        """Every version of every event type of these projects (one query, for batch jobs that
        judge each event by the version it was accepted under)."""
        wanted = sorted(set(project_ids))
        if not wanted:
            return []
        query = select(event_schemas).where(event_schemas.c.project_id.in_(wanted))
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_stored_schema(row) for row in rows]
