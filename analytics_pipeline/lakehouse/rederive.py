"""Rebuild one day of ``validated_events`` and ``quarantined_events`` from bronze (a backfill).

Bronze holds every record as received, partitioned by event date, so a day can be judged again
and both tables' rows of that day replaced as a whole: the same result as the batch runs give,
whatever happened to the day's rows since. Each record is judged by the schema version it was
accepted under, as the batch runs judge it, and by today's quality rules; judging by the newest
schemas instead is an explicit choice (``newest_schemas``), never a side effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.lakehouse.batch_etl import parse_records
from analytics_pipeline.lakehouse.bronze import bronze_source
from analytics_pipeline.lakehouse.daily_metrics import day_literal
from analytics_pipeline.lakehouse.delta_commits import rows_written, tagged
from analytics_pipeline.lakehouse.delta_tables import is_delta_table
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.tables import VALIDATED_COLUMNS
from analytics_pipeline.lakehouse.validated_and_quarantined import (
    ensure_validated_table,
    first_of_each_event,
    quarantine_rows,
)
from analytics_pipeline.metadata.store import StoredSchema


@dataclass(frozen=True)
class RederivedDay:
    validated: int  # rows the day now has in validated_events
    quarantined: int  # and in quarantined_events


def rederive_day(
    spark: SparkSession,
    tables: LakeTables,
    day: date,
    schemas_for: Callable[[list[str]], list[StoredSchema]],
    rules: QualityRules,
    *,
    newest_schemas: bool = False,
) -> RederivedDay:
    """Replace the day's validated and quarantined rows with those bronze yields now."""
    ensure_validated_table(spark, tables.validated_events)
    if not is_delta_table(spark, tables.bronze_events):
        return RederivedDay(0, 0)
    records = bronze_source(spark, tables.bronze_events).where(F.col("eventDate") == F.lit(day))
    projects = sorted(r.projectId for r in records.select("projectId").distinct().collect() if r.projectId)
    parsed = parse_records(records, schemas_for(projects), rules, newest_schemas=newest_schemas).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        validated = first_of_each_event(parsed.where("valid").select(*VALIDATED_COLUMNS))
        return RederivedDay(
            validated=_replace_day(spark, validated, tables.validated_events, day),
            quarantined=_replace_day(spark, quarantine_rows(parsed), tables.quarantined_events, day),
        )
    finally:
        parsed.unpersist()


def _replace_day(spark: SparkSession, rows: DataFrame, path: str, day: date) -> int:
    writer, tag = tagged(rows.write, f"rederive:{day}")
    (
        writer.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"eventDate = {day_literal(day)}")
        .option("mergeSchema", "true")
        .save(path)
    )
    return rows_written(spark, path, tag)
