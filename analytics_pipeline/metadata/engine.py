"""The metadata database's engine: SQLite by default (nothing to start), PostgreSQL by configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from analytics_pipeline.metadata.tables import metadata


def create_metadata_engine(url: str) -> Engine:
    """An engine with the tables created; SQLite in WAL mode so services read while one writes."""
    engine = _engine(url)
    metadata.create_all(engine)
    return engine


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the ingestion service read while the CLI writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
