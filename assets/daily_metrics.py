"""``daily_metrics``: per project and UTC day, daily partitions, recomputed as a whole per day.

A run from a backfill (Dagster tags it ``dagster/backfill``) first rebuilds the day's
validated_events from bronze, so a backfill applies today's rules to the records as received.
"""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

from datetime import date

import dagster as dg
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.daily_metrics import compute_daily_metrics, write_daily_metrics
from analytics_pipeline.lakehouse.rederive import rederive_validated_day
from assets.keys import DAILY_METRICS, VALIDATED_EVENTS
from assets.lakehouse import LAKE_GROUP
from orchestration.resources import LakehouseResource, MetadataResource
from quality.gate import failed_gating_checks

MATCHES_VALIDATED = "matches_validated_events"
BACKFILL_TAG = "dagster/backfill"


class DailyMetricsConfig(dg.Config):
    rederive_validated: bool = False  # rebuild the day's validated_events from bronze first


def build_daily_metrics(partitions_def: dg.DailyPartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=DAILY_METRICS,
        deps=[VALIDATED_EVENTS],
        partitions_def=partitions_def,
        group_name=LAKE_GROUP,
        kinds={"delta", "spark"},
        description=(
            "Per project and UTC day: events, events by type, daily active users, purchases and "
            "revenue by currency. Delta, one partition per day, replaced as a whole on each run."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                MATCHES_VALIDATED,
                asset=DAILY_METRICS,
                description="Per project, the day's events equal the day's rows in validated_events.",
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
            raise dg.Failure(
                description="validated_events failed an ERROR-level quality check; fix the data, then rerun",
                metadata={
                    "failed_checks": dg.MetadataValue.json([f"{b.check} (run {b.run_id})" for b in blocked])
                },
            )
        day = context.partition_time_window.start.date()
        spark, tables = lakehouse.spark(), lakehouse.tables
        rederived = None
        if config.rederive_validated or BACKFILL_TAG in context.run.tags:
            rederived = rederive_validated_day(spark, tables, day, metadata.latest_schemas)
            context.log.info(f"validated_events of {day} rebuilt from bronze: {rederived} rows")
        metrics = compute_daily_metrics(spark, tables.validated_events, day).cache()
        try:
            rows = write_daily_metrics(spark, metrics, tables.daily_metrics, day)
            check = _matches_validated(spark, tables.validated_events, tables.daily_metrics, day)
            totals = metrics.agg(
                F.sum("events").alias("events"), F.sum("purchases").alias("purchases")
            ).first()
        finally:
            metrics.unpersist()
        result_metadata: dict[str, object] = {
            "day": day.isoformat(),
            "projects": rows,
            "dagster/row_count": rows,
            "events": int(totals["events"] or 0),
            "purchases": int(totals["purchases"] or 0),
            "path": dg.MetadataValue.path(tables.daily_metrics),
        }
        if rederived is not None:
            result_metadata["validated_rows_rederived"] = rederived
        return dg.MaterializeResult(metadata=result_metadata, check_results=[check])

    return daily_metrics


def _matches_validated(spark, validated_path: str, metrics_path: str, day: date) -> dg.AssetCheckResult:
    """Both tables read back from storage, per project; any difference is listed."""
    on_day = F.col("eventDate") == F.lit(day)
    validated = dict(
        spark.read.format("delta").load(validated_path).where(on_day).groupBy("projectId").count().collect()
    )
    metrics = {
        r.projectId: r.events
        for r in spark.read.format("delta")
        .load(metrics_path)
        .where(F.col("metricDate") == F.lit(day))
        .collect()
    }
    differences = {
        project: {"validated_events": validated.get(project, 0), "daily_metrics": metrics.get(project, 0)}
        for project in sorted(set(validated) | set(metrics))
        if validated.get(project, 0) != metrics.get(project, 0)
    }
    return dg.AssetCheckResult(
        check_name=MATCHES_VALIDATED,
        passed=not differences,
        metadata={
            "validated_rows": sum(validated.values()),
            "metric_events": sum(metrics.values()),
            "differences": dg.MetadataValue.json(differences),
        },
    )
