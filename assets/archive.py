"""events_archive: raw Kafka records as Parquet objects in S3, one object per offset range.

Runs over the exact ranges archival_sensor planned, through dagster-aws's S3 resource (boto3)
and kafka-python; no Spark, so the archive keeps working when Spark or the lake is broken.
"""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

import dagster as dg

from analytics_pipeline.archive.archiver import archive_ranges
from assets.offset_config import OffsetRangesConfig
from keys import EVENTS_ARCHIVE, RAW_EVENTS
from resources.kafka import KafkaResource
from resources.object_storage import ObjectStorageResource
from resources.policies import STEP_RETRIES

ARCHIVE_GROUP = "archive"
# dagster.yaml runs one step of a pool at a time: archive runs never crowd out the lake's
# writers, and a backlog after an outage is archived in order.
ARCHIVE_POOL = "archive"
SHOWN_KEYS = 20


@dg.asset(
    key=EVENTS_ARCHIVE,
    deps=[RAW_EVENTS],
    group_name=ARCHIVE_GROUP,
    kinds={"s3", "parquet"},
    retry_policy=STEP_RETRIES,
    pool=ARCHIVE_POOL,
    description=(
        "Every raw record exactly as Kafka holds it (key and value bytes, headers, topic, partition, "
        "offset, Kafka timestamp) as zstd Parquet at archive/{project}/partition={p}/{first}-{last}"
        ".parquet; an object is written once and checked (size, checksum) before it counts."
    ),
)
def events_archive(
    context: dg.AssetExecutionContext,
    config: OffsetRangesConfig,
    kafka: KafkaResource,
    s3: ObjectStorageResource,
) -> dg.MaterializeResult:
    ranges = config.offset_ranges()
    report = archive_ranges(kafka.bootstrap_servers, s3.archive_store(), ranges)
    context.log.info(
        f"{len(report.written)} object(s) written ({report.records} records, {report.bytes} bytes), "
        f"{len(report.present)} already archived"
    )
    return dg.MaterializeResult(
        metadata={
            "objects_written": len(report.written),
            "objects_already_archived": len(report.present),
            "records": report.records,
            "bytes": report.bytes,
            "records_expired_before_archival": report.expired,
            "bucket": s3.archive_bucket,
            "keys": "\n".join((report.written + report.present)[:SHOWN_KEYS]),
        }
    )
