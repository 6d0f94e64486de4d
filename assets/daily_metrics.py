"""``daily_metrics``: per project and UTC day, daily partitions, recomputed as a whole per day.

A run from a backfill (Dagster tags it ``dagster/backfill``) first rebuilds the day's
validated_events and quarantined_events from bronze, judging each record by the schema version
it was accepted under; the tag ``analytics/judge=newest-schemas`` (or the config) re-judges by the
newest schemas instead, as an explicit choice.

The quality gate is scoped to a project and a day: a (project, day) whose validated rows repeat
an eventId gets no metrics (each would count an event twice), and every other pair of the run is
written. The ``quality_gate`` check names the pairs held; ``late_events_sensor`` recomputes them
once their rows are exact again.
"""

# No `from __future__ import annotations` here: Dagster resolves Config annotations when decorating.

from datetime import timedelta

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from analytics_pipeline.dagster_api import JUDGE_TAG, NEWEST_SCHEMAS
from analytics_pipeline.lakehouse.daily_metrics import (
    compute_daily_metrics,
    differences,
    held_days,
    releasable,
    write_daily_metrics,
)
from analytics_pipeline.lakehouse.rederive import rederive_day
from assets.lakehouse import LAKE_GROUP
from keys import DAILY_METRICS, HELD_METADATA, LAKE_POOL, VALIDATED_EVENTS
from quality.daily_metrics_checks import DAILY_METRICS_CHECK_SPECS, daily_metrics_check_results, held_json
from resources.lakehouse import LakehouseResource, MetadataResource, QualityResource
from resources.policies import STEP_RETRIES

BACKFILL_TAG = "dagster/backfill"


class DailyMetricsConfig(dg.Config):
    rederive_validated: bool = False  # rebuild the days' validated and quarantined rows from bronze first
    newest_schemas: bool = False  # when rebuilding: judge by the newest schemas, not the accepted ones


MAX_DAYS_PER_RUN = 31  # a backfill of a year is 12 runs, each one Spark session for a month


def build_daily_metrics(partitions_def: dg.DailyPartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=DAILY_METRICS,
        deps=[VALIDATED_EVENTS],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_DAYS_PER_RUN),
        pool=LAKE_POOL,
        retry_policy=STEP_RETRIES,
        group_name=LAKE_GROUP,
        kinds={"delta", "spark"},
        description=(
            "Per project and UTC day: events, events by type, daily active users, purchases and "
            "revenue by currency. Delta, one partition per day, replaced as a whole on each run. "
            "A run may cover a range of days (backfills, late events), in one Spark session. "
            "A (project, day) whose validated rows repeat an eventId is held back (quality_gate)."
        ),
        check_specs=DAILY_METRICS_CHECK_SPECS,
    )
    def daily_metrics(
        context: dg.AssetExecutionContext,
        config: DailyMetricsConfig,
        lakehouse: LakehouseResource,
        metadata: MetadataResource,
        quality: QualityResource,
    ) -> dg.MaterializeResult:
        window = context.partition_time_window
        first, last = window.start.date(), window.end.date() - timedelta(days=1)
        spark, tables = lakehouse.spark(), lakehouse.tables
        rederive = config.rederive_validated or BACKFILL_TAG in context.run.tags
        newest = config.newest_schemas or context.run.tags.get(JUDGE_TAG) == NEWEST_SCHEMAS
        if newest and not rederive:
            raise dg.Failure(
                description="newest_schemas re-judges rows rebuilt from bronze: set rederive_validated too",
                allow_retries=False,
            )
        result_metadata: dict[str, object] = {}
        if rederive:
            rebuilt = [
                rederive_day(
                    spark, tables, first + timedelta(days=n), metadata.all_schemas, quality.rules(),
                    newest_schemas=newest,
                )
                for n in range((last - first).days + 1)
            ]  # fmt: skip
            result_metadata["validated_rows_rederived"] = sum(r.validated for r in rebuilt)
            result_metadata["quarantined_rows_rederived"] = sum(r.quarantined for r in rebuilt)
            result_metadata["judged_by"] = (
                "newest schemas" if newest else "the schema versions accepted under"
            )
            context.log.info(f"{first}..{last} rebuilt from bronze: {result_metadata}")
        metrics = compute_daily_metrics(spark, tables.validated_events, first, last).cache()
        try:
            held = held_days(metrics)
            written = releasable(metrics)
            rows = write_daily_metrics(spark, written, tables.daily_metrics, first, last)
            per_day = _per_day(written)
        finally:
            metrics.unpersist()
        found = differences(spark, tables.validated_events, tables.daily_metrics, first, last, held=held)
        result_metadata.update(
            {
                "days": dg.MetadataValue.json(per_day),
                "first_day": first.isoformat(),
                "last_day": last.isoformat(),
                "rows": rows,
                "dagster/row_count": rows,
                "events": sum(d["events"] for d in per_day.values()),
                "purchases": sum(d["purchases"] for d in per_day.values()),
                HELD_METADATA: dg.MetadataValue.json(held_json(held)),
                "path": dg.MetadataValue.path(tables.daily_metrics),
            }
        )
        checks = daily_metrics_check_results(first, last, found, held)
        return dg.MaterializeResult(metadata=result_metadata, check_results=checks)

    return daily_metrics


def _per_day(metrics: DataFrame) -> dict[str, dict[str, int]]:
    return {
        r.metricDate.isoformat(): {"events": r.events, "purchases": r.purchases, "projects": r.projects}
        for r in metrics.groupBy("metricDate")
        .agg(
            F.sum("events").alias("events"),
            F.sum("purchases").alias("purchases"),
            F.count("*").alias("projects"),
        )
        .collect()
    }
