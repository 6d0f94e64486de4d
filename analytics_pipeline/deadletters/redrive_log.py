"""The durable record of redrives, in the metadata database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update

from analytics_pipeline.metadata.engine import create_metadata_engine, upsert_insert
from analytics_pipeline.metadata.tables import dead_letter_redrives as table
from analytics_pipeline.timeutil import utc_now


@dataclass(frozen=True)
class Redrive:
    letter_partition: int
    letter_offset: int
    target_partition: int
    search_from: int  # the target partition's end offset when the claim was made
    target_offset: int | None  # None: claimed, not confirmed (the sender stopped in between)
    redriven_at: datetime | None

    @property
    def letter_id(self) -> str:
        return f"{self.letter_partition}-{self.letter_offset}"

    @property
    def confirmed(self) -> bool:
        return self.target_offset is not None


class RedriveLog:
    def __init__(self, url: str) -> None:
        self._engine = create_metadata_engine(url)
        self._insert = upsert_insert(self._engine, "the redrive log")

    def of_project(self, project_id: str) -> dict[str, Redrive]:
        query = select(table).where(table.c.project_id == project_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        found = (
            Redrive(
                r.letter_partition,
                r.letter_offset,
                r.target_partition,
                r.search_from,
                r.target_offset,
                r.redriven_at,
            )
            for r in rows
        )
        return {r.letter_id: r for r in found}

    def claim(self, project_id: str, claims: Sequence[Redrive]) -> None:
        """Claim letters before sending them; a letter claimed before keeps its first claim."""
        if not claims:
            return
        now = utc_now()
        rows = [
            {
                "project_id": project_id,
                "letter_partition": c.letter_partition,
                "letter_offset": c.letter_offset,
                "target_partition": c.target_partition,
                "search_from": c.search_from,
                "claimed_at": now,
            }
            for c in claims
        ]
        statement = self._insert(table).on_conflict_do_nothing(
            index_elements=["project_id", "letter_partition", "letter_offset"]
        )
        with self._engine.begin() as conn:
            conn.execute(statement, rows)

    def confirm(self, project_id: str, offsets: dict[tuple[int, int], int]) -> None:
        """Record where Kafka put each redriven letter: ``{(letter partition, offset): target offset}``."""
        if not offsets:
            return
        statement = (
            update(table)
            .where(
                table.c.project_id == bindparam("p_project"),
                table.c.letter_partition == bindparam("p_partition"),
                table.c.letter_offset == bindparam("p_offset"),
            )
            .values(target_offset=bindparam("p_target"), redriven_at=bindparam("p_at"))
        )
        now = utc_now()
        rows = [
            {"p_project": project_id, "p_partition": p, "p_offset": o, "p_target": t, "p_at": now}
            for (p, o), t in offsets.items()
        ]
        with self._engine.begin() as conn:
            conn.execute(statement, rows)
