"""One archive object: the records of one partition's offset range, exactly as Kafka holds them
(key and value bytes, headers, topic, partition, offset, Kafka timestamp), as zstd Parquet.

Its key is derived from project, partition and range alone, so a rerun of the same range names
the same object and never writes a second copy.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from analytics_pipeline.kafka_io.admin import TopicRecord

ARCHIVE_PREFIX = "archive"
_TIMESTAMP = pa.timestamp("ms", tz="UTC")
_HEADER = pa.struct([("key", pa.string()), ("value", pa.binary())])
ARCHIVE_SCHEMA = pa.schema(
    [
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
        ("timestamp", _TIMESTAMP),
        ("timestamp_type", pa.int8()),
        ("key", pa.binary()),
        ("value", pa.binary()),
        ("headers", pa.list_(_HEADER)),
    ]
)
_KEY = re.compile(
    rf"^{ARCHIVE_PREFIX}/(?P<project>[^/]+)/partition=(?P<partition>\d+)/(?P<first>\d+)-(?P<last>\d+)\.parquet$"
)


@dataclass(frozen=True, order=True)
class ArchivedSpan:
    """What an object key says: the project, the partition, and the offsets ``[first, last]``."""

    project: str
    partition: int
    first: int
    last: int  # inclusive

    @property
    def key(self) -> str:
        return object_key(self.project, self.partition, self.first, self.last)


def project_prefix(project: str) -> str:
    return f"{ARCHIVE_PREFIX}/{project}/"


def object_key(project: str, partition: int, first: int, last: int) -> str:
    """Zero-padded offsets, so a listing comes back in offset order."""
    return f"{project_prefix(project)}partition={partition}/{first:019d}-{last:019d}.parquet"


def parse_object_key(key: str) -> ArchivedSpan | None:
    match = _KEY.fullmatch(key)
    if match is None:
        return None
    return ArchivedSpan(match["project"], int(match["partition"]), int(match["first"]), int(match["last"]))


def encode(records: list[TopicRecord]) -> bytes:
    """Deterministic for the same records: a rerun uploads the same bytes."""
    table = pa.Table.from_pydict(
        {
            "topic": [r.topic for r in records],
            "partition": [r.partition for r in records],
            "offset": [r.offset for r in records],
            "timestamp": pa.array([r.timestamp_ms for r in records], pa.int64()).cast(_TIMESTAMP),
            "timestamp_type": [r.timestamp_type for r in records],
            "key": [r.key for r in records],
            "value": [r.value for r in records],
            "headers": [[{"key": k, "value": v} for k, v in r.headers] for r in records],
        },
        schema=ARCHIVE_SCHEMA,
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue()


def decode(body: bytes) -> list[TopicRecord]:
    table = pq.read_table(io.BytesIO(body), schema=ARCHIVE_SCHEMA)
    timestamps = table.column("timestamp").cast(pa.int64()).to_pylist()
    return [
        TopicRecord(
            row["topic"],
            row["partition"],
            row["offset"],
            row["key"],
            row["value"],
            timestamp_ms,
            row["timestamp_type"],
            tuple((h["key"], h["value"]) for h in row["headers"]),
        )
        for row, timestamp_ms in zip(table.to_pylist(), timestamps, strict=True)
    ]
