"""The metadata database's engine: SQLite by default (nothing to start), PostgreSQL by configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from analytics_pipeline.metadata.tables import metadata


def create_metadata_engine(url: str) -> Engine:
    """An engine with the tables created; SQLite in WAL mode so services read while one writes."""
    engine = _engine(url)
    _create_tables(engine)
    return engine


def _create_tables(engine: Engine) -> None:
    """``create_all`` checks, then creates: processes starting together (the ingestion API's
    workers) race, and the loser's CREATE finds the table made. Each lost race means one more
    table exists, so one pass more than there are tables always succeeds."""
    attempts = len(metadata.tables) + 1
    for attempt in range(1, attempts + 1):
        try:
            metadata.create_all(engine)
            return
        except DBAPIError:
            if attempt == attempts:
                raise


_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def upsert_insert(engine: Engine, what: str) -> Any:
    """The dialect's ``insert`` (it has ``on_conflict_do_nothing``); ``what`` names the caller in
    the error for a database that is neither."""
    dialect = engine.dialect.name
    if dialect not in _INSERTS:
        raise ValueError(f"{what} runs on SQLite or PostgreSQL, not {dialect}")
    return _INSERTS[dialect]


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
