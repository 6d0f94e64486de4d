"""Run config naming exact Kafka offset ranges: what a sensor planned and a run reads."""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

import dagster as dg
from pydantic import Field

from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, ranges_from_config


class OffsetRangeConfig(dg.Config):
    topic: str
    partition: int
    start: int
    end: int  # exclusive


class OffsetRangesConfig(dg.Config):
    """The exact Kafka offset ranges of one run (what its sensor requested)."""

    ranges: list[OffsetRangeConfig]
    # the replays the run reads records again for (kafka_offsets_sensor)
    replays: list[str] = Field(default_factory=list)

    def offset_ranges(self) -> list[OffsetRange]:
        return ranges_from_config(r.model_dump() for r in self.ranges)
