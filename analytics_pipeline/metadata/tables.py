"""Table definitions of the metadata store, portable between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Only a SHA-256 digest of each key is stored. Keys carry 256 bits of entropy, so a fast hash is
# safe here (as for GitHub tokens) and keeps the per-request lookup cheap; the prefix lets an
# operator tell keys apart without the secret.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("key_prefix", String(16), nullable=False),
    Column("project_id", String(64), ForeignKey("projects.project_id"), nullable=False, index=True),
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

event_schemas = Table(
    "event_schemas",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("json_schema", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "event_type", "version", name="uq_schema_version"),
)

# One compact row per accepted event, written by the metadata-index consumer group off the request
# path (the design's "metadata updated later"), for lookups by eventId and by user. Rows older than
# the retention are deleted; the lake keeps the history.
event_index = Table(
    "event_index",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Index("ix_event_index_user", "project_id", "user_id", "timestamp"),
    Index("ix_event_index_received", "received_at"),
)

# One row per dead letter sent back for processing: claimed before the send (with where in the
# target partition to look for it), confirmed with its new offset after Kafka acknowledged it.
# A second redrive sends nothing for a confirmed row, and finds a claimed one's record before
# sending it again (`deadletters.redrive`).
dead_letter_redrives = Table(
    "dead_letter_redrives",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("letter_partition", Integer, primary_key=True),
    Column("letter_offset", BigInteger, primary_key=True),
    Column("target_partition", Integer, nullable=False),
    Column("search_from", BigInteger, nullable=False),
    Column("target_offset", BigInteger, nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("redriven_at", DateTime(timezone=True), nullable=True),
)
