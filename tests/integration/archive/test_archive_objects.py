"""The archive against a real Kafka broker and the stack's S3 server: every record exactly once,
exactly as Kafka holds it; a rerun writes nothing; only a whole object counts as archived."""

from __future__ import annotations

import pytest

from analytics_pipeline.archive.archiver import archive_ranges, range_key
from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import project_prefix
from analytics_pipeline.objectstore.client import s3_client
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.s3_server import S3Server
from tests.support.archival import (
    archived_records,
    covering_ranges,
    kafka_records,
    new_raw_topic,
    write_records,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def store(s3_server: S3Server) -> ArchiveStore:
    return ArchiveStore(s3_client(s3_server.endpoint), "archive-objects-test")


def test_every_record_is_archived_exactly_as_kafka_holds_it(
    stack_settings: Settings, kafka_broker: KafkaBroker, store: ArchiveStore
) -> None:
    project = new_raw_topic(stack_settings)
    write_records(stack_settings, project, 300)
    ranges = covering_ranges(stack_settings, project, per_range=70)
    assert len(ranges) > 3  # several objects per partition

    report = archive_ranges(stack_settings.kafka_bootstrap_servers, store, ranges)

    expected = kafka_records(stack_settings, project)
    assert len(expected) == 300
    assert archived_records(store, project) == expected  # keys, values, headers, timestamps, offsets
    assert report.records == 300
    assert sorted(report.written) == sorted(range_key(r) for r in ranges)
    listed = [obj.key for obj in store.objects(project_prefix(project))]
    assert listed == sorted(range_key(r) for r in ranges)
    assert report.bytes == sum(obj.size for obj in store.objects(project_prefix(project)))


def test_a_rerun_writes_nothing_and_leaves_the_objects_alone(
    stack_settings: Settings, kafka_broker: KafkaBroker, store: ArchiveStore
) -> None:
    project = new_raw_topic(stack_settings)
    write_records(stack_settings, project, 90)
    ranges = covering_ranges(stack_settings, project, per_range=20)
    archive_ranges(stack_settings.kafka_bootstrap_servers, store, ranges)
    before = {o["Key"]: o["LastModified"] for o in _listing(store, project)}

    again = archive_ranges(stack_settings.kafka_bootstrap_servers, store, ranges)

    assert again.written == []
    assert again.records == 0
    assert sorted(again.present) == sorted(before)
    assert {o["Key"]: o["LastModified"] for o in _listing(store, project)} == before
    assert archived_records(store, project) == kafka_records(stack_settings, project)


def test_a_damaged_or_foreign_object_does_not_count_as_archived(
    stack_settings: Settings, kafka_broker: KafkaBroker, store: ArchiveStore
) -> None:
    project = new_raw_topic(stack_settings)
    write_records(stack_settings, project, 30)
    ranges = covering_ranges(stack_settings, project, per_range=100)
    archive_ranges(stack_settings.kafka_bootstrap_servers, store, ranges)
    damaged, foreign = range_key(ranges[0]), range_key(ranges[1])
    whole = store.read(damaged)
    # the first half of a real object, under the metadata of the whole one
    head = store.client.head_object(Bucket=store.bucket, Key=damaged)
    store.client.put_object(
        Bucket=store.bucket, Key=damaged, Body=whole[: len(whole) // 2], Metadata=head["Metadata"]
    )
    store.client.put_object(Bucket=store.bucket, Key=foreign, Body=b"not parquet")  # no metadata at all
    assert not store.whole(damaged)
    assert not store.whole(foreign)

    report = archive_ranges(stack_settings.kafka_bootstrap_servers, store, ranges)

    assert sorted(report.written) == sorted([damaged, foreign])
    assert store.whole(damaged)
    assert store.whole(foreign)
    assert archived_records(store, project) == kafka_records(stack_settings, project)


def test_whole_falls_back_to_the_checksum_when_the_etag_is_not_an_md5(
    stack_settings: Settings, kafka_broker: KafkaBroker, store: ArchiveStore
) -> None:
    """On S3 with SSE-KMS or multipart uploads the ETag is no MD5: the SHA-256 decides."""
    store.ensure_bucket()
    body = b"x" * 1000
    store.put("archive/etag-test/partition=0/1-2.parquet", body, 2)
    head = store.client.head_object(Bucket=store.bucket, Key="archive/etag-test/partition=0/1-2.parquet")
    meta = {**head["Metadata"], "md5": "0" * 32}
    store.client.put_object(
        Bucket=store.bucket, Key="archive/etag-test/partition=0/1-2.parquet", Body=body, Metadata=meta
    )
    assert store.whole("archive/etag-test/partition=0/1-2.parquet")
    meta["sha256"] = "0" * 64
    store.client.put_object(
        Bucket=store.bucket, Key="archive/etag-test/partition=0/1-2.parquet", Body=body, Metadata=meta
    )
    assert not store.whole("archive/etag-test/partition=0/1-2.parquet")


def _listing(store: ArchiveStore, project: str) -> list[dict]:
    page = store.client.list_objects_v2(Bucket=store.bucket, Prefix=project_prefix(project))
    return [o for o in page.get("Contents", []) if o["Key"].endswith(".parquet")]
