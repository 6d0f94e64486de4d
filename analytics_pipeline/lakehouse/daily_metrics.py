"""``daily_metrics``: per project and UTC day, from ``validated_events``; one partition per day.

A day's rows are replaced as a whole (``replaceWhere``), so recomputing a day (a late event, a
backfill) gives the same rows as computing it once with every event present.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.lakehouse.delta_commits import commit_metric, latest_version
from analytics_pipeline.lakehouse.tables import DAILY_METRICS_PARTITIONS

PURCHASE = "purchase"
MONEY = "decimal(38,6)"  # amounts summed exactly, not as floats


def day_literal(day: date) -> str:
    return f"DATE'{day.isoformat()}'"


def compute_daily_metrics(spark: SparkSession, validated_path: str, day: date) -> DataFrame:
    """One row per project with events that day (UTC): counts, active users, purchases, revenue."""
    events = spark.read.format("delta").load(validated_path).where(f"eventDate = {day_literal(day)}")
    totals = events.groupBy("projectId").agg(
        F.count("*").alias("events"),
        F.countDistinct("userId").alias("dailyActiveUsers"),
        F.count(F.when(F.col("eventType") == PURCHASE, 1)).alias("purchases"),
    )
    by_type = (
        events.groupBy("projectId", "eventType")
        .count()
        .groupBy("projectId")
        .agg(F.map_from_entries(F.collect_list(F.struct("eventType", "count"))).alias("eventsByType"))
    )
    purchases = events.where(F.col("eventType") == PURCHASE).select(
        "projectId",
        F.get_json_object("properties", "$.currency").alias("currency"),
        F.get_json_object("properties", "$.amount").cast(MONEY).alias("amount"),
    )
    revenue = (
        purchases.where("currency IS NOT NULL AND amount IS NOT NULL")
        .groupBy("projectId", "currency")
        .agg(F.sum("amount").cast(MONEY).alias("revenue"))
        .groupBy("projectId")
        .agg(F.map_from_entries(F.collect_list(F.struct("currency", "revenue"))).alias("revenueByCurrency"))
    )
    return (
        totals.join(by_type, "projectId")
        .join(revenue, "projectId", "left")
        .select(
            F.lit(day).alias("metricDate"),
            "projectId",
            "events",
            "dailyActiveUsers",
            "purchases",
            "eventsByType",
            F.coalesce("revenueByCurrency", F.create_map().cast(f"map<string,{MONEY}>")).alias(
                "revenueByCurrency"
            ),
            F.current_timestamp().alias("computedAt"),
        )
    )


def write_daily_metrics(spark: SparkSession, metrics: DataFrame, path: str, day: date) -> int:
    """Replace the day's rows with ``metrics``; returns the rows written."""
    before = latest_version(spark, path)
    (
        metrics.write.format("delta")
        .mode("overwrite")
        .partitionBy(*DAILY_METRICS_PARTITIONS)
        .option("replaceWhere", f"metricDate = {day_literal(day)}")
        .save(path)
    )
    return commit_metric(spark, path, before, "numOutputRows")
