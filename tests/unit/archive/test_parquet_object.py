"""An archive object holds records exactly as Kafka held them, at a key derived from the range."""

from __future__ import annotations

import pytest

from analytics_pipeline.archive.archiver import range_key
from analytics_pipeline.archive.parquet_object import (
    ArchivedSpan,
    decode,
    encode,
    object_key,
    parse_object_key,
    project_prefix,
)
from analytics_pipeline.kafka_io.admin import TopicRecord
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange

RECORDS = [
    TopicRecord("events.shop", 2, 40, b"e-1", b'{"a":1}', 1_767_225_600_123, 0, (("trace", b"\x00\xff"),)),
    TopicRecord("events.shop", 2, 41, None, None, 1_767_225_600_999, 1, ()),
    TopicRecord("events.shop", 2, 42, b"", b"\xff\xfe", 0, 0, (("a", None), ("a", b"again"))),
]


def test_records_come_back_exactly_as_written() -> None:
    assert decode(encode(RECORDS)) == RECORDS


def test_the_same_records_encode_to_the_same_bytes() -> None:
    """A rerun of a range uploads identical bytes."""
    assert encode(RECORDS) == encode(list(RECORDS))


def test_an_empty_range_encodes_to_an_object_with_no_records() -> None:
    assert decode(encode([])) == []


def test_key_names_project_partition_and_inclusive_offsets() -> None:
    key = object_key("shop", 2, 40, 42)
    assert key == "archive/shop/partition=2/0000000000000000040-0000000000000000042.parquet"
    assert key.startswith(project_prefix("shop"))
    assert parse_object_key(key) == ArchivedSpan("shop", 2, 40, 42)
    assert ArchivedSpan("shop", 2, 40, 42).key == key


def test_keys_list_in_offset_order() -> None:
    keys = [object_key("p", 0, first, first + 9) for first in (0, 10, 100, 1_000, 10_000)]
    assert sorted(keys) == keys


@pytest.mark.parametrize(
    "key", ["archive/shop/partition=x/1-2.parquet", "archive/shop/1-2.parquet", "other/key"]
)
def test_foreign_keys_are_not_archive_objects(key: str) -> None:
    assert parse_object_key(key) is None


def test_a_range_is_named_by_its_first_and_last_offset() -> None:
    assert range_key(OffsetRange("events.shop", 1, 100, 200)) == object_key("shop", 1, 100, 199)
    with pytest.raises(ValueError, match="not a raw topic"):
        range_key(OffsetRange("events.processed.shop", 1, 0, 1))
