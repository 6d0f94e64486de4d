"""``daily_metrics``: per project and UTC day, daily partitions, recomputed as a whole per day.

A run from a backfill (Dagster tags it ``dagster/backfill``) first rebuilds the day's
validated_events from bronze, so a backfill applies today's rules to the records as received.
"""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

from datetime import timedelta

import dagster as dg
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.daily_metrics import compute_daily_metrics, differences, write_daily_metrics
from analytics_pipeline.lakehouse.rederive import rederive_validated_day
from assets.keys import DAILY_METRICS, VALIDATED_EVENTS
from assets.lakehouse import LAKE_GROUP, LAKE_POOL, LAKE_STEP_RETRIES
from orchestration.resources import LakehouseResource, MetadataResource
from quality.gate import failed_gating_checks

MATCHES_VALIDATED = "matches_validated_events"
BACKFILL_TAG = "dagster/backfill"


class DailyMetricsConfig(dg.Config):
    rederive_validated: bool = False  # rebuild the day's validated_events from bronze first


MAX_DAYS_PER_RUN = 31  # a backfill of a year is 12 runs, each one Spark session for a month


def build_daily_metrics(partitions_def: dg.DailyPartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=DAILY_METRICS,
        deps=[VALIDATED_EVENTS],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_DAYS_PER_RUN),
        pool=LAKE_POOL,
        retry_policy=LAKE_STEP_RETRIES,
        group_name=LAKE_GROUP,
        kinds={"delta", "spark"},
        description=(
            "Per project and UTC day: events, events by type, daily active users, purchases and "
            "revenue by currency. Delta, one partition per day, replaced as a whole on each run. "
            "A run may cover a range of days (backfills, late events), in one Spark session."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                MATCHES_VALIDATED,
                asset=DAILY_METRICS,
                description="Per project and day, the events equal the day's rows in validated_events.",
            )
        ],
    )
    def daily_metrics(
        context: dg.AssetExecutionContext,
        config: DailyMetricsConfig,
        lakehouse: LakehouseResource,
        metadata: MetadataResource,
    ) -> dg.MaterializeResult:
        blocked = failed_gating_checks(context.instance)
        if blocked:
            named = ", ".join(f"{b.check} (run {b.run_id})" for b in blocked)
            raise dg.Failure(
                description=f"refused: the ERROR-level check {named} failed; fix the data, then rerun",
                metadata={
                    "failed_checks": dg.MetadataValue.json([f"{b.check} (run {b.run_id})" for b in blocked])
                },
                allow_retries=False,  # deterministic: a retry would be refused the same way
            )
        window = context.partition_time_window
        first, last = window.start.date(), window.end.date() - timedelta(days=1)
        spark, tables = lakehouse.spark(), lakehouse.tables
        rederived = None
        if config.rederive_validated or BACKFILL_TAG in context.run.tags:
            rederived = 0
            for n in range((last - first).days + 1):
                rederived += rederive_validated_day(
                    spark, tables, first + timedelta(days=n), metadata.latest_schemas
                )
            context.log.info(f"validated_events of {first}..{last} rebuilt from bronze: {rederived} rows")
        metrics = compute_daily_metrics(spark, tables.validated_events, first, last).cache()
        try:
            rows = write_daily_metrics(spark, metrics, tables.daily_metrics, first, last)
            per_day = {
                r.metricDate.isoformat(): {
                    "events": r.events,
                    "purchases": r.purchases,
                    "projects": r.projects,
                }
                for r in metrics.groupBy("metricDate")
                .agg(
                    F.sum("events").alias("events"),
                    F.sum("purchases").alias("purchases"),
                    F.count("*").alias("projects"),
                )
                .collect()
            }
        finally:
            metrics.unpersist()
        found = differences(spark, tables.validated_events, tables.daily_metrics, first, last)
        result_metadata: dict[str, object] = {
            "days": dg.MetadataValue.json(per_day),
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "rows": rows,
            "dagster/row_count": rows,
            "events": sum(d["events"] for d in per_day.values()),
            "purchases": sum(d["purchases"] for d in per_day.values()),
            "path": dg.MetadataValue.path(tables.daily_metrics),
        }
        if rederived is not None:
            result_metadata["validated_rows_rederived"] = rederived
        check = dg.AssetCheckResult(
            check_name=MATCHES_VALIDATED,
            passed=not found,
            metadata={"days_checked": (last - first).days + 1, "differences": dg.MetadataValue.json(found)},
        )
        return dg.MaterializeResult(metadata=result_metadata, check_results=[check])

    return daily_metrics
