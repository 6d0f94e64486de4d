"""The lakehouse assets: raw_events -> bronze_events -> validated_events (+ quarantined_events)
-> daily_metrics. Thin Dagster wrappers over ``analytics_pipeline.lakehouse`` (the Spark code).

``kafka_batch`` is one step that writes the three Kafka-fed tables, because the batch is read
from Kafka once and held in memory between the writes. Its run config names the exact offset
ranges (planned by ``kafka_offsets_sensor``). It is the only step of its run in the ``lake`` pool:
the batch's checks (``quality/etl_batch_checks.py``) read what it wrote while the next run writes.
"""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

import dagster as dg

from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.lakehouse.batch_etl import BatchReport, run_batch
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange
from assets.offset_config import OffsetRangesConfig
from keys import BATCH_OP, BRONZE_EVENTS, LAKE_POOL, QUARANTINED_EVENTS, RAW_EVENTS, VALIDATED_EVENTS
from resources.kafka import KafkaResource
from resources.lakehouse import LakehouseResource, MetadataResource, QualityResource
from resources.policies import STEP_RETRIES

LAKE_GROUP = "lakehouse"


@dg.multi_asset(
    name=BATCH_OP,
    specs=[
        dg.AssetSpec(
            BRONZE_EVENTS,
            deps=[RAW_EVENTS],
            description=(
                "Every raw record as received (key and value bytes) plus topic, partition, offset, "
                "receivedAt and its batch; append-only, one Delta commit per batch, partitioned by "
                "event date."
            ),
            kinds={"delta", "spark"},
            group_name=LAKE_GROUP,
        ),
        dg.AssetSpec(
            VALIDATED_EVENTS,
            deps=[BRONZE_EVENTS],
            description=(
                "Events that keep the shared contract and their property schema, unique by "
                "(projectId, eventId); Delta, partitioned by projectId and eventDate."
            ),
            kinds={"delta", "spark"},
            group_name=LAKE_GROUP,
        ),
        dg.AssetSpec(
            QUARANTINED_EVENTS,
            deps=[BRONZE_EVENTS],
            description=(
                "Records barred from validated_events, with the stage that barred them (contract, "
                "the schema version they name, or a row-level quality rule), every problem, and "
                "the first as reason."
            ),
            kinds={"delta", "spark"},
            group_name=LAKE_GROUP,
        ),
    ],
    can_subset=False,
    pool=LAKE_POOL,
    retry_policy=STEP_RETRIES,
)
def kafka_batch(  # noqa: PLR0917 - Dagster injects config and resources by parameter name
    context: dg.AssetExecutionContext,
    config: OffsetRangesConfig,
    kafka: KafkaResource,
    lakehouse: LakehouseResource,
    metadata: MetadataResource,
    quality: QualityResource,
):
    ranges = config.offset_ranges()
    projects = sorted({project_of_raw_topic(r.topic) or r.topic for r in ranges})
    schemas = metadata.all_schemas(projects)
    spark = lakehouse.spark()
    tables = lakehouse.tables
    report = run_batch(
        spark,
        kafka.bootstrap_servers,
        ranges,
        tables,
        schemas,
        quality.rules(),
        replays=config.replays,
        dedup_window=lakehouse.dedup_window(),
        judge_in_jvm=lakehouse.judge_in_jvm,
    )
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.phases.items())
    context.log.info(
        f"batch {report.batch_id}: {report.records_read} records, {report.validated_added} new events, "
        f"{report.quarantined} quarantined, {report.duplicates_dropped} duplicates ({phases})"
    )
    yield dg.MaterializeResult(
        asset_key=BRONZE_EVENTS, metadata=_bronze_metadata(report, ranges, tables.bronze_events)
    )
    yield dg.MaterializeResult(
        asset_key=VALIDATED_EVENTS, metadata=_validated_metadata(report, tables.validated_events)
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINED_EVENTS,
        metadata={
            "rows_added": report.quarantine_added,
            "records_quarantined": report.quarantined,
            "reasons": dg.MetadataValue.json(report.problems),
            "path": dg.MetadataValue.path(tables.quarantined_events),
        },
    )


def _bronze_metadata(report: BatchReport, ranges: list[OffsetRange], path: str) -> dict[str, object]:
    return {
        "batch_id": report.batch_id,
        "records_read": report.records_read,
        "rows_added": report.bronze_added,
        "dagster/row_count": report.bronze_added,
        "ranges": dg.MetadataValue.json([f"{r.topic}/{r.partition}:{r.start}-{r.end}" for r in ranges]),
        "seconds": dg.MetadataValue.json({name: round(s, 2) for name, s in report.phases.items()}),
        "path": dg.MetadataValue.path(path),
    }


def _validated_metadata(report: BatchReport, path: str) -> dict[str, object]:
    return {
        "batch_id": report.batch_id,
        "rows_added": report.validated_added,
        "valid_records": report.valid,
        "duplicates_dropped": report.duplicates_dropped,
        # read by late_events_sensor: the days whose daily_metrics this batch may change
        "event_dates": dg.MetadataValue.json([d.isoformat() for d in report.event_dates]),
        "projects": dg.MetadataValue.json(report.projects),
        "path": dg.MetadataValue.path(path),
    }
