"""One project's rows of the lake tables, as Arrow datasets DuckDB can scan, and nothing more.

The tables are read with delta-rs (no Spark, no JVM). ``events`` (validated_events, partitioned
by project) is pruned to the project's files; every table is also filtered to its rows, so a
connection given these views cannot reach another project's rows whatever SQL it runs. Table
versions are read at most every ``version_ttl_s``, so a cached answer costs no log listing.

A table is named by its Delta id as well as its version: a folder deleted and written again (the
lake lost, then restored) holds another table whose versions start again at 0, and whose log
delta-rs would otherwise apply on top of the old table's state (files that are gone).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

import pyarrow.compute as pc
import pyarrow.dataset as pads
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from analytics_pipeline.lakehouse.paths import LakeTables

PROJECT_COLUMN = "projectId"


class LakeTableMissing(Exception):
    """A table the query reads has not been written yet (no ETL run has created it)."""


class TableVersion(NamedTuple):
    """What an answer was computed from: which table (its Delta id), at which version."""

    table_id: str
    version: int


@dataclass(frozen=True)
class TableSource:
    name: str  # as the SQL names it
    path: str
    partitioned_by_project: bool


def table_sources(tables: LakeTables) -> dict[str, TableSource]:
    return {
        "events": TableSource("events", tables.validated_events, True),
        "daily_metrics": TableSource("daily_metrics", tables.daily_metrics, False),
        "quarantined_events": TableSource("quarantined_events", tables.quarantined_events, False),
    }


class ProjectLake:
    """Opens the lake's Delta tables once and hands out per-project views of them."""

    def __init__(
        self, tables: LakeTables, version_ttl_s: float = 1.0, storage_options: dict[str, str] | None = None
    ) -> None:
        self.sources = table_sources(tables)
        self._storage_options = storage_options  # delta-rs options of a lake on S3
        self._version_ttl_s = version_ttl_s
        self._open: dict[str, tuple[DeltaTable, float]] = {}  # name -> (table, when last updated)
        self._lock = threading.Lock()

    def versions(self, names: frozenset[str]) -> dict[str, TableVersion]:
        """Each table's current version (what a cached answer was computed from)."""
        return {name: _version_of(self._table(name)) for name in sorted(names)}

    def last_written(self, name: str) -> datetime | None:
        """When the table's latest commit was made; None before the first."""
        try:
            table = self._table(name)
        except LakeTableMissing:
            return None
        (latest,) = table.history(1)
        return datetime.fromtimestamp(latest["timestamp"] / 1000, UTC)

    def views(self, project_id: str, names: frozenset[str]) -> dict[str, pads.Dataset]:
        """Each table as a dataset of the project's rows only, at the versions ``versions`` gave."""
        return {name: self._view(name, project_id) for name in sorted(names)}

    def events(self, project_id: str, first: date, last: date) -> pads.Dataset:
        """The project's validated events of the days ``first``..``last``, pruned to their files."""
        return self._view("events", project_id, [("eventDate", ">=", first), ("eventDate", "<=", last)])

    def _view(
        self, name: str, project_id: str, days: list[tuple[str, str, date]] | None = None
    ) -> pads.Dataset:
        source, table = self.sources[name], self._table(name)
        pruning = (
            [(PROJECT_COLUMN, "=", project_id), *(days or [])] if source.partitioned_by_project else None
        )
        dataset = table.to_pyarrow_dataset(file_pruning_predicate=pruning)
        return dataset.filter(pc.field(PROJECT_COLUMN) == project_id)

    def _table(self, name: str) -> DeltaTable:
        """The table, brought up to date when its last update is older than the TTL."""
        with self._lock:
            now = time.monotonic()
            held = self._open.get(name)
            if held is not None and now - held[1] < self._version_ttl_s:
                return held[0]
            try:
                table = self._open_table(name) if held is None else self._refreshed(name, held[0])
            except TableNotFoundError as exc:
                self._open.pop(name, None)
                raise LakeTableMissing(f"table {name} has no data yet: the first ETL run writes it") from exc
            self._open[name] = (table, now)
            return table

    def _open_table(self, name: str, *, without_files: bool = False) -> DeltaTable:
        path = self.sources[name].path
        return DeltaTable(path, storage_options=self._storage_options, without_files=without_files)

    def _refreshed(self, name: str, held: DeltaTable) -> DeltaTable:
        """``held`` brought up to date, or the table now in its folder if that is another one.
        The probe (no files) reads the log once; ``held`` reads it again only when it moved."""
        probe = self._open_table(name, without_files=True)
        if probe.metadata().id != held.metadata().id:
            return self._open_table(name)
        if probe.version() != held.version():
            held.update_incremental()
        return held


def _version_of(table: DeltaTable) -> TableVersion:
    return TableVersion(table.metadata().id, table.version())
