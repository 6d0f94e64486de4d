"""archive_restore: rebuild bronze_events for some days from the archive (launchable from the UI
or by `analytics archive restore`). restore_rederive_sensor then rebuilds the days' validated
and quarantined events and daily_metrics from bronze, as a backfill does."""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

from datetime import date

import dagster as dg

from analytics_pipeline.archive.restore_request import (
    RECORDS_READ,
    RESTORE_JOB,
    RESTORE_OP,
    RESTORED_DAYS,
    ROWS_ADDED,
)
from analytics_pipeline.archive.restore_source import ReceiptWindow, read_archive
from analytics_pipeline.lakehouse.rederive import rederive_day
from analytics_pipeline.lakehouse.restore import etl_done, restore_bronze
from analytics_pipeline.timeutil import utc_now
from keys import BRONZE_EVENTS, LAKE_POOL
from resources.kafka import KafkaResource
from resources.lakehouse import LakehouseResource, MetadataResource, QualityResource
from resources.object_storage import ObjectStorageResource
from resources.policies import STEP_RETRIES


class RestoreConfig(dg.Config):
    """The project and the UTC days (YYYY-MM-DD, inclusive) to restore."""

    project: str
    first_day: str
    last_day: str

    def days(self) -> tuple[date, date]:
        try:
            first, last = date.fromisoformat(self.first_day), date.fromisoformat(self.last_day)
        except ValueError as exc:
            raise dg.Failure(description=f"days are YYYY-MM-DD: {exc}", allow_retries=False) from exc
        if last < first:
            raise dg.Failure(
                description=f"last_day {last} lies before first_day {first}", allow_retries=False
            )
        if last > utc_now().date():
            raise dg.Failure(description=f"last_day {last} lies in the future", allow_retries=False)
        return first, last


@dg.op(
    name=RESTORE_OP,
    pool=LAKE_POOL,
    retry_policy=STEP_RETRIES,
    description="Appends to bronze_events the archived records of the days that bronze does not hold.",
)
def restore_bronze_op(  # noqa: PLR0917 - Dagster injects config and resources by parameter name
    context: dg.OpExecutionContext,
    config: RestoreConfig,
    s3: ObjectStorageResource,
    kafka: KafkaResource,
    lakehouse: LakehouseResource,
    metadata: MetadataResource,
    quality: QualityResource,
) -> None:
    first, last = config.days()
    window = ReceiptWindow.for_days(first, last, quality.max_event_age(), quality.max_future())
    records = read_archive(
        s3.archive_store(),
        config.project,
        window,
        on_object=lambda done, total: (
            context.log.info(f"read {done}/{total} archive objects")
            if done == total or done % 50 == 0
            else None
        ),
    )
    done = etl_done(records, kafka.etl_committed())  # the ETL still owns what it has not committed
    report = restore_bronze(
        lakehouse.spark(),
        lakehouse.tables,
        done,
        first,
        last,
        f"restore-{context.run_id}",
        metadata.all_schemas([config.project]),
        quality.rules(),
    )
    context.log.info(
        f"{report.records_read} archived records read, {report.records_in_days} of {first}..{last}, "
        f"{report.rows_added} added to bronze_events"
    )
    # today has no daily_metrics partition yet: its validated rows are rebuilt here, the closed
    # days' by restore_rederive_sensor's daily_metrics run
    today = utc_now().date()
    if first <= today <= last:
        rebuilt = rederive_day(
            lakehouse.spark(), lakehouse.tables, today, metadata.all_schemas, quality.rules()
        )
        context.log.info(f"{today} rebuilt from bronze: {rebuilt}")
    context.log_event(
        dg.AssetMaterialization(
            BRONZE_EVENTS,
            description=f"restored {config.project} {first}..{last} from the archive",
            metadata={
                RECORDS_READ: report.records_read,
                "records_left_to_the_etl": records.num_rows - done.num_rows,
                "records_of_the_days": report.records_in_days,
                ROWS_ADDED: report.rows_added,
                RESTORED_DAYS: dg.MetadataValue.json([d.isoformat() for d in report.days]),
                "project": config.project,
            },
        )
    )


@dg.job(
    name=RESTORE_JOB,
    executor_def=dg.in_process_executor,
    description=(
        "Rebuilds bronze_events for a project's days from the archive; restore_rederive_sensor then "
        "recomputes validated_events, quarantined_events and daily_metrics for those days from bronze."
    ),
)
def archive_restore() -> None:
    restore_bronze_op()
