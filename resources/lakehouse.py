"""Dagster resources of the lakehouse: Spark with Delta and the tables, the schemas it judges by,
and the bounds of its quality rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
from pyspark.sql import SparkSession

from analytics_pipeline.events.quality_rules import DEFAULT_CURRENCIES, QualityRules
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.s3a import is_s3a, lake_bucket
from analytics_pipeline.lakehouse.spark import build_spark_session
from analytics_pipeline.lakehouse.spark_connect import connect_session
from analytics_pipeline.metadata.store import MetadataStore, StoredSchema
from analytics_pipeline.objectstore.client import ensure_bucket
from analytics_pipeline.objectstore.endpoint import S3Endpoint
from analytics_pipeline.stack.spark_server import SparkServerSpec, ensure_spark_server
from resources.object_storage import ObjectStorageResource


class LakehouseResource(dg.ConfigurableResource):
    """Spark with Delta (jars fetched by Maven) and the lake's table locations; on S3 (an
    ``s3a://`` lake root) through the object storage resource's endpoint and credentials.

    With ``spark_connect_url``, a session on the stack's long-lived Spark Connect server (started
    again here if it died); without, a Spark of the run's own process on ``spark_master``."""

    lake_root: str
    spark_master: str = "local[*]"
    spark_driver_memory: str = "1g"
    spark_connect_url: str = ""
    spark_server_memory: str = "2g"
    stack_home: str = ""  # where the stack keeps the server's pid file and log
    java_home: str | None = None
    jar_root: str
    s3: ObjectStorageResource
    dedup_window_s: int = 3_600
    judge_in_jvm: bool = False  # records the JVM proves valid are decided there (ANALYTICS_LAKE_JUDGE_IN_JVM)

    def dedup_window(self) -> timedelta:
        """How far apart in receive time two copies of an event may be for validated to keep one."""
        return timedelta(seconds=self.dedup_window_s)

    @property
    def tables(self) -> LakeTables:
        return LakeTables(self.lake_root)

    def spark(self) -> SparkSession:
        """The process's session. A lake on S3 gets its bucket created on first use, as the
        archive's is."""
        endpoint = None
        if is_s3a(self.lake_root):
            endpoint = self.s3.endpoint()
            ensure_bucket(self.s3.get_client(), lake_bucket(self.lake_root))
        if self.spark_connect_url:
            ensure_spark_server(self.server_spec(endpoint))
            return connect_session(self.spark_connect_url)
        return build_spark_session(
            self.spark_master, self.spark_driver_memory, Path(self.jar_root), s3=endpoint
        )

    def server_spec(self, s3: S3Endpoint | None) -> SparkServerSpec:
        """The server `analytics stack up` starts for these settings."""
        return SparkServerSpec(
            url=self.spark_connect_url,
            master=self.spark_master,
            memory=self.spark_server_memory,
            jar_root=Path(self.jar_root),
            home=Path(self.stack_home),
            s3=s3,
            java_home=Path(self.java_home) if self.java_home else None,
        )


class MetadataResource(dg.ConfigurableResource):
    """The metadata store: every version of the property schemas the lakehouse judges by."""

    url: str

    def all_schemas(self, project_ids: list[str]) -> list[StoredSchema]:
        store = MetadataStore(self.url)
        try:
            return store.all_schemas(project_ids)
        finally:
            store.close()


class QualityResource(dg.ConfigurableResource):
    """The bounds of the quality rules: the ingestion service's own time window, and the
    currencies revenue may be counted in."""

    max_event_age_s: int
    max_future_skew_s: int
    currencies: list[str] = sorted(DEFAULT_CURRENCIES)

    def max_event_age(self) -> timedelta:
        return timedelta(seconds=self.max_event_age_s)

    def max_future(self) -> timedelta:
        return timedelta(seconds=self.max_future_skew_s)

    def currency_set(self) -> frozenset[str]:
        return frozenset(self.currencies)

    def rules(self) -> QualityRules:
        """What the ETL judges each event by (the same bounds the suites check)."""
        return QualityRules.of(
            max_event_age_s=self.max_event_age_s,
            max_future_skew_s=self.max_future_skew_s,
            currencies=self.currencies,
        )
