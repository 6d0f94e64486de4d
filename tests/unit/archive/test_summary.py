"""The archive's listing, summed per partition, with the offsets no object covers."""

from __future__ import annotations

from collections.abc import Iterator

from analytics_pipeline.archive.object_store import ArchiveStore, ObjectInfo
from analytics_pipeline.archive.parquet_object import object_key
from analytics_pipeline.archive.summary import project_archive


class Listing(ArchiveStore):
    """Only the listing: the summary reads no object."""

    def __init__(self, objects: list[ObjectInfo]) -> None:
        super().__init__(client=None, bucket="b")
        self.listed = objects

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        return iter(o for o in self.listed if o.key.startswith(prefix))


def test_partitions_sum_their_objects_and_count_gaps() -> None:
    store = Listing(
        [
            ObjectInfo(object_key("shop", 0, 0, 99), 1_000),
            ObjectInfo(object_key("shop", 0, 200, 299), 900),  # 100..199 missing
            ObjectInfo(object_key("shop", 1, 0, 9), 50),
            ObjectInfo(object_key("blog", 0, 0, 999), 5),  # another project
            ObjectInfo("archive/shop/partition=1/notes.txt", 7),  # not an archive object
        ]
    )
    archive = project_archive(store, "shop")
    first, second = archive.partitions
    assert (first.partition, first.objects, first.records, first.bytes, first.gaps) == (0, 2, 200, 1_900, 100)
    assert (first.first_offset, first.last_offset) == (0, 299)
    assert (second.objects, second.records, second.gaps) == (1, 10, 0)
    assert (archive.objects, archive.records, archive.bytes) == (3, 210, 1_950)
    assert archive.as_json()["records"] == 210
