"""Running the lakehouse's Dagster assets in-process against the test stack."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from pyspark.sql import functions as F

from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, pending_ranges
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from orchestration.definitions import build_definitions
from resources.kafka import KafkaResource
from sensors.kafka_offsets import batch_run_config


class LakeGraph:
    """The code location's Definitions over a private lake, with one ephemeral instance."""

    def __init__(
        self,
        settings: Settings,
        lake_dir: Path | str,
        instance: dg.DagsterInstance | None = None,
        spark_master: str = "local[2]",
    ) -> None:
        # A Spark in this process (the test session's), never the stack's Spark Connect server.
        update = {"lake_dir": str(lake_dir), "spark_master": spark_master, "spark_connect_url": ""}
        self.settings = settings.model_copy(update=update)
        self.defs = build_definitions(self.settings)
        self.instance = instance or dg.DagsterInstance.ephemeral()

    def pending(
        self, project_ids: list[str], committed: dict[tuple[str, int], int] | None = None
    ) -> list[OffsetRange]:
        ends = {
            (raw_topic(p), o.partition): o.latest
            for p in project_ids
            for o in topic_offsets(self.settings.kafka_bootstrap_servers, raw_topic(p))
        }
        return pending_ranges(committed or {}, ends)

    def run_etl(
        self, ranges: list[OffsetRange], replays: tuple[str, ...] = (), **kwargs
    ) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("kafka_batch_etl")
        config = batch_run_config(ranges, replays)
        return job.execute_in_process(run_config=config, instance=self.instance, **kwargs)

    def run_daily(self, day: date, **kwargs) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("daily_metrics_job")
        return job.execute_in_process(partition_key=day.isoformat(), instance=self.instance, **kwargs)

    def run_daily_range(self, first: date, last: date, **kwargs) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("daily_metrics_job")
        tags = {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }
        return job.execute_in_process(instance=self.instance, tags=tags, **kwargs)

    def checks(self, result: dg.ExecuteInProcessResult) -> dict[str, bool]:
        return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def past_days(n: int) -> list[date]:
    """The ``n`` days before today, oldest first."""
    today = utc_now().date()
    return [today - timedelta(days=k) for k in range(n, 0, -1)]


def commit_tick(graph: LakeGraph, kafka: KafkaResource) -> None:
    with dg.build_sensor_context(instance=graph.instance, resources={"kafka": kafka}) as context:
        graph.defs.resolve_sensor_def("batch_etl_commit_sensor")(context)


def daily_events(spark, graph: LakeGraph, day, project_id: str) -> int:
    rows = (
        spark.read.format("delta")
        .load(graph.defs.resources["lakehouse"].tables.daily_metrics)
        .where((F.col("metricDate") == F.lit(day)) & (F.col("projectId") == project_id))
        .collect()
    )
    return rows[0].events if rows else 0
