"""Rebuild one day of ``validated_events`` from bronze (what a backfill does).

Bronze holds every record as received, partitioned by event date, so a day can be judged again
(with today's schemas and rules) and its validated rows replaced as a whole: the same result as
the batch runs produce, whatever happened to the day's rows since.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.batch_etl import parse_records
from analytics_pipeline.lakehouse.bronze import bronze_source
from analytics_pipeline.lakehouse.daily_metrics import day_literal
from analytics_pipeline.lakehouse.delta_commits import commit_metric, latest_version
from analytics_pipeline.lakehouse.silver import ensure_validated_table, first_of_each_event
from analytics_pipeline.lakehouse.tables import VALIDATED_COLUMNS, LakeTables
from analytics_pipeline.metadata.store import StoredSchema


def rederive_validated_day(
    spark: SparkSession, tables: LakeTables, day: date, schemas_for: Callable[[list[str]], list[StoredSchema]]
) -> int:
    """Replace the day's validated rows with those bronze yields now; returns the rows written."""
    ensure_validated_table(spark, tables.validated_events)
    if not DeltaTable.isDeltaTable(spark, tables.bronze_events):
        return 0
    records = bronze_source(spark, tables.bronze_events).where(F.col("eventDate") == F.lit(day))
    projects = sorted(r.projectId for r in records.select("projectId").distinct().collect() if r.projectId)
    parsed = parse_records(records, schemas_for(projects))
    rows = first_of_each_event(parsed.where("valid").select(*VALIDATED_COLUMNS))
    before = latest_version(spark, tables.validated_events)
    (
        rows.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"eventDate = {day_literal(day)}")
        .save(tables.validated_events)
    )
    return commit_metric(spark, tables.validated_events, before, "numOutputRows")
