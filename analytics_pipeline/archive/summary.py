"""What the archive holds for a project, per partition, from one listing (no object is read)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import parse_object_key, project_prefix


@dataclass(frozen=True)
class PartitionArchive:
    partition: int
    objects: int
    first_offset: int
    last_offset: int
    records: int  # offsets the objects cover (the records Kafka still held when they were archived)
    bytes: int
    gaps: int  # offsets between the first and the last that no object covers


@dataclass(frozen=True)
class ProjectArchive:
    project: str
    bucket: str
    partitions: list[PartitionArchive]

    @property
    def objects(self) -> int:
        return sum(p.objects for p in self.partitions)

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.partitions)

    def as_json(self) -> dict[str, object]:
        return {
            "project": self.project,
            "bucket": self.bucket,
            "objects": self.objects,
            "records": self.records,
            "bytes": self.bytes,
            "partitions": [asdict(p) for p in self.partitions],
        }


def project_archive(store: ArchiveStore, project: str) -> ProjectArchive:
    spans: dict[int, list[tuple[int, int, int]]] = {}
    for obj in store.objects(project_prefix(project)):
        span = parse_object_key(obj.key)
        if span is not None:
            spans.setdefault(span.partition, []).append((span.first, span.last, obj.size))
    partitions = []
    for partition, items in sorted(spans.items()):
        items.sort()
        covered = sum(last - first + 1 for first, last, _ in items)
        first, last = items[0][0], max(last for _, last, _ in items)
        partitions.append(
            PartitionArchive(
                partition,
                len(items),
                first,
                last,
                covered,
                sum(size for _, _, size in items),
                (last - first + 1) - covered,
            )
        )
    return ProjectArchive(project, store.bucket, partitions)
