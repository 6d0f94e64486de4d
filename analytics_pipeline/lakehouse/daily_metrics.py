"""``daily_metrics``: per project and UTC day, from ``validated_events``; one partition per day.

A run computes a range of days in one pass and replaces exactly those days (``replaceWhere``),
so recomputing days (late events, a backfill) gives the same rows as computing them once with
every event present, and a day without events loses its old rows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.delta_commits import rows_written, tagged
from analytics_pipeline.lakehouse.tables import DAILY_METRICS_PARTITIONS

PURCHASE = "purchase"
MONEY = "decimal(38,6)"  # amounts summed exactly, not as floats
DAY_KEY = ("metricDate", "projectId")
REPEATED = "repeatedEvents"  # validated rows of the day beyond one per eventId (0 when exact)


def day_literal(day: date) -> str:
    return f"DATE'{day.isoformat()}'"


def days_predicate(column: str, first: date, last: date) -> str:
    # Not BETWEEN: Delta's replaceWhere check fails on it with an internal Spark error.
    return f"{column} >= {day_literal(first)} AND {column} <= {day_literal(last)}"


def compute_daily_metrics(spark: SparkSession, validated_path: str, first: date, last: date) -> DataFrame:
    """One row per project and day with events: counts, active users, purchases, revenue, and
    ``repeatedEvents`` for the gate (``held_days``, ``releasable``)."""
    events = (
        spark.read.format("delta")
        .load(validated_path)
        .where(days_predicate("eventDate", first, last))
        .withColumnRenamed("eventDate", "metricDate")
    )
    totals = events.groupBy(*DAY_KEY).agg(
        F.count("*").alias("events"),
        F.countDistinct("userId").alias("dailyActiveUsers"),
        F.count(F.when(F.col("eventType") == PURCHASE, 1)).alias("purchases"),
        (F.count("*") - F.countDistinct("eventId")).alias(REPEATED),
    )
    by_type = (
        events.groupBy(*DAY_KEY, "eventType")
        .count()
        .groupBy(*DAY_KEY)
        .agg(F.map_from_entries(F.collect_list(F.struct("eventType", "count"))).alias("eventsByType"))
    )
    purchases = events.where(F.col("eventType") == PURCHASE).select(
        *DAY_KEY,
        F.get_json_object("properties", "$.currency").alias("currency"),
        F.get_json_object("properties", "$.amount").cast(MONEY).alias("amount"),
    )
    revenue = (
        purchases.where("currency IS NOT NULL AND amount IS NOT NULL")
        .groupBy(*DAY_KEY, "currency")
        .agg(F.sum("amount").cast(MONEY).alias("revenue"))
        .groupBy(*DAY_KEY)
        .agg(F.map_from_entries(F.collect_list(F.struct("currency", "revenue"))).alias("revenueByCurrency"))
    )
    no_revenue = F.create_map().cast(f"map<string,{MONEY}>")
    return (
        totals.join(by_type, list(DAY_KEY))
        .join(revenue, list(DAY_KEY), "left")
        .select(
            *DAY_KEY,
            "events",
            "dailyActiveUsers",
            "purchases",
            "eventsByType",
            F.coalesce("revenueByCurrency", no_revenue).alias("revenueByCurrency"),
            F.current_timestamp().alias("computedAt"),
            REPEATED,
        )
    )


def held_days(metrics: DataFrame) -> dict[tuple[date, str], int]:
    """(day, project) whose validated rows repeat an eventId, with the rows too many: the
    quality gate holds their metrics back (each would count an event twice)."""
    return {(r.metricDate, r.projectId): r[REPEATED] for r in metrics.where(F.col(REPEATED) > 0).collect()}


def releasable(metrics: DataFrame) -> DataFrame:
    """The rows the gate lets through, shaped like the table."""
    return metrics.where(F.col(REPEATED) == 0).drop(REPEATED)


def write_daily_metrics(spark: SparkSession, metrics: DataFrame, path: str, first: date, last: date) -> int:
    """Replace the days ``first``..``last`` with ``metrics``; returns the rows written."""
    writer, tag = tagged(metrics.write, f"daily_metrics:{first}..{last}")
    (
        writer.format("delta")
        .mode("overwrite")
        .partitionBy(*DAILY_METRICS_PARTITIONS)
        .option("replaceWhere", days_predicate("metricDate", first, last))
        .save(path)
    )
    return rows_written(spark, path, tag)


def differences(
    spark: SparkSession,
    validated_path: str,
    metrics_path: str,
    first: date,
    last: date,
    *,
    held: Collection[tuple[date, str]] = (),
) -> dict[str, dict[str, dict[str, int]]]:
    """Per day and project whose events differ between the two tables, both counts, read back;
    the pairs the gate ``held`` back are left out (they have no metrics on purpose)."""
    validated = {
        (r.eventDate, r.projectId): r["count"]
        for r in spark.read.format("delta")
        .load(validated_path)
        .where(days_predicate("eventDate", first, last))
        .groupBy("eventDate", "projectId")
        .count()
        .collect()
    }
    metrics = {
        (r.metricDate, r.projectId): r.events
        for r in spark.read.format("delta")
        .load(metrics_path)
        .where(days_predicate("metricDate", first, last))
        .select(*DAY_KEY, "events")
        .collect()
    }
    found: dict[str, dict[str, dict[str, int]]] = {}
    for day, project in sorted((set(validated) | set(metrics)) - set(held)):
        ours, theirs = validated.get((day, project), 0), metrics.get((day, project), 0)
        if ours != theirs:
            found.setdefault(day.isoformat(), {})[project] = {
                "validated_events": ours,
                "daily_metrics": theirs,
            }
    return found
