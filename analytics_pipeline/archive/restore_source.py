"""The archived records of a project that may hold events of some days, read back from S3.

An event's day says little about where its record sits in Kafka, but its receipt bounds it: the
ingestion service accepts an event only if it is at most ``max_age`` old and ``max_future`` ahead
of its receipt, and the record's Kafka timestamp is that receipt (give or take the producer's
clock). So the records of days ``[first, last]`` are among those received from ``first -
max_future`` to ``last + 1 day + max_age``; the rest of each object is dropped as it is read.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import ARCHIVE_SCHEMA, project_prefix

CLOCK_SLACK = timedelta(minutes=5)  # producer clocks and receipt stamps may differ by a little


@dataclass(frozen=True)
class ReceiptWindow:
    start: datetime
    end: datetime  # exclusive

    @classmethod
    def for_days(cls, first: date, last: date, max_age: timedelta, max_future: timedelta) -> ReceiptWindow:
        day_start = datetime.combine(first, time(), UTC)
        day_end = datetime.combine(last + timedelta(days=1), time(), UTC)
        return cls(day_start - max_future - CLOCK_SLACK, day_end + max_age + CLOCK_SLACK)


def read_archive(
    store: ArchiveStore,
    project: str,
    window: ReceiptWindow,
    on_object: Callable[[int, int], None] | None = None,
) -> pa.Table:
    """Every archived record of ``project`` received in ``window``, as one Arrow table."""
    objects = list(store.objects(project_prefix(project)))
    parts = []
    for index, obj in enumerate(objects, 1):
        table = pq.read_table(io.BytesIO(store.read(obj.key)), schema=ARCHIVE_SCHEMA)
        stamps = table.column("timestamp")
        keep = pc.and_(
            pc.greater_equal(stamps, pa.scalar(window.start, stamps.type)),
            pc.less(stamps, pa.scalar(window.end, stamps.type)),
        )
        parts.append(table.filter(keep))
        if on_object is not None:
            on_object(index, len(objects))
    return pa.concat_tables(parts) if parts else ARCHIVE_SCHEMA.empty_table()
