"""Where the lakehouse tables live: one folder (or ``s3a://`` prefix) per lake, one Delta table
per asset, named like the asset so the Dagster graph and the storage read the same. No Spark
import, so readers without Spark (the query service) share it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LakeTables:
    """The Delta table locations under one lake root (a folder or an ``s3a://`` URI)."""

    root: str

    def _table(self, name: str) -> str:
        return f"{self.root.rstrip('/')}/{name}"

    @property
    def bronze_events(self) -> str:
        return self._table("bronze_events")

    @property
    def validated_events(self) -> str:
        return self._table("validated_events")

    @property
    def quarantined_events(self) -> str:
        return self._table("quarantined_events")

    @property
    def daily_metrics(self) -> str:
        return self._table("daily_metrics")
