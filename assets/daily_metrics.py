"""``daily_metrics``: per project and UTC day, daily partitions, recomputed as a whole per day.

A run from a backfill (Dagster tags it ``dagster/backfill``) first rebuilds the day's
validated_events from bronze, so a backfill applies today's rules to the records as received.
"""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

from datetime import date, timedelta

import dagster as dg
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.daily_metrics import compute_daily_metrics, write_daily_metrics
from analytics_pipeline.lakehouse.rederive import rederive_validated_day
from assets.keys import DAILY_METRICS, VALIDATED_EVENTS
from assets.lakehouse import LAKE_GROUP, LAKE_POOL
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
            raise dg.Failure(
                description="validated_events failed an ERROR-level quality check; fix the data, then rerun",
                metadata={
                    "failed_checks": dg.MetadataValue.json([f"{b.check} (run {b.run_id})" for b in blocked])
                },
            )
        window = context.partition_time_window
        days = [window.start.date() + timedelta(days=n) for n in range((window.end - window.start).days)]
        spark, tables = lakehouse.spark(), lakehouse.tables
        rederive = config.rederive_validated or BACKFILL_TAG in context.run.tags
        per_day: dict[str, dict[str, int]] = {}
        differences: dict[str, object] = {}
        for day in days:
            summary = _compute_day(spark, tables, day, metadata if rederive else None)
            context.log.info(f"daily_metrics {day}: {summary}")
            per_day[day.isoformat()] = {k: v for k, v in summary.items() if k != "differences"}
            if summary["differences"]:
                differences[day.isoformat()] = summary["differences"]
        result_metadata: dict[str, object] = {
            "days": dg.MetadataValue.json(per_day),
            "events": sum(d["events"] for d in per_day.values()),
            "purchases": sum(d["purchases"] for d in per_day.values()),
            "projects": max((d["projects"] for d in per_day.values()), default=0),
            "path": dg.MetadataValue.path(tables.daily_metrics),
        }
        if rederive:
            result_metadata["validated_rows_rederived"] = sum(d["rederived"] for d in per_day.values())
        check = dg.AssetCheckResult(
            check_name=MATCHES_VALIDATED,
            passed=not differences,
            metadata={"days_checked": len(days), "differences": dg.MetadataValue.json(differences)},
        )
        return dg.MaterializeResult(metadata=result_metadata, check_results=[check])

    return daily_metrics


def _compute_day(spark, tables, day: date, rederive_from: MetadataResource | None) -> dict:
    """One day: rebuilt from bronze first when asked, computed, replaced, then checked."""
    rederived = 0
    if rederive_from is not None:
        rederived = rederive_validated_day(spark, tables, day, rederive_from.latest_schemas)
    metrics = compute_daily_metrics(spark, tables.validated_events, day).cache()
    try:
        projects = write_daily_metrics(spark, metrics, tables.daily_metrics, day)
        totals = metrics.agg(F.sum("events").alias("events"), F.sum("purchases").alias("purchases")).first()
    finally:
        metrics.unpersist()
    return {
        "events": int(totals["events"] or 0),
        "purchases": int(totals["purchases"] or 0),
        "projects": projects,
        "rederived": rederived,
        "differences": _differences(spark, tables.validated_events, tables.daily_metrics, day),
    }


def _differences(spark, validated_path: str, metrics_path: str, day: date) -> dict[str, dict[str, int]]:
    """Per project whose events differ: both counts, read back from storage."""
    validated = dict(
        spark.read.format("delta")
        .load(validated_path)
        .where(F.col("eventDate") == F.lit(day))
        .groupBy("projectId")
        .count()
        .collect()
    )
    metrics = {
        r.projectId: r.events
        for r in spark.read.format("delta")
        .load(metrics_path)
        .where(F.col("metricDate") == F.lit(day))
        .collect()
    }
    return {
        project: {"validated_events": validated.get(project, 0), "daily_metrics": metrics.get(project, 0)}
        for project in sorted(set(validated) | set(metrics))
        if validated.get(project, 0) != metrics.get(project, 0)
    }
