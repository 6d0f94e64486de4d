"""Archive offset ranges: read each range from Kafka, write it as one object, skip what is there.

A range's upload overlaps the read of the next range (one upload thread): Kafka and S3 are both
network waits, so the two share the time instead of adding it up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import encode, object_key
from analytics_pipeline.kafka_io.admin import read_span_whole
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange


@dataclass
class ArchiveReport:
    written: list[str] = field(default_factory=list)  # keys uploaded now
    present: list[str] = field(default_factory=list)  # keys already whole, left alone
    records: int = 0  # records in the objects written now
    bytes: int = 0  # bytes of the objects written now
    expired: int = 0  # records of the ranges that retention deleted before archival reached them

    @property
    def objects(self) -> int:
        return len(self.written) + len(self.present)


def range_key(r: OffsetRange) -> str:
    project = project_of_raw_topic(r.topic)
    if project is None:
        raise ValueError(f"{r.topic} is not a raw topic (events.{{project_id}})")
    return object_key(project, r.partition, r.start, r.end - 1)


def archive_ranges(
    bootstrap_servers: str,
    store: ArchiveStore,
    ranges: Iterable[OffsetRange],
    *,
    read_timeout_s: float = 60.0,
    on_range: Callable[[OffsetRange], None] | None = None,
) -> ArchiveReport:
    """Every range ends as one whole object at its key; an exception means some may not have."""
    report = ArchiveReport()
    ranges = [r for r in sorted(ranges) if r.count > 0]
    store.ensure_bucket()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-upload") as uploads:
        pending: Future[None] | None = None
        for r in ranges:
            key = range_key(r)
            if store.whole(key):
                report.present.append(key)
            else:
                records, expired = read_span_whole(
                    bootstrap_servers, r.topic, r.partition, r.start, r.end, timeout_s=read_timeout_s
                )
                body = encode(records)
                if pending is not None:
                    pending.result()  # one upload in flight; an upload's error ends the run here
                pending = uploads.submit(store.put, key, body, len(records))
                report.written.append(key)
                report.records += len(records)
                report.bytes += len(body)
                report.expired += expired
            if on_range is not None:
                on_range(r)
        if pending is not None:
            pending.result()
    return report
