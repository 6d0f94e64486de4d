"""A Spark session with Delta Lake and the Kafka batch source, from jars fetched by Maven.

The jars come from ``infra/jvm/spark-lakehouse.pom.xml`` (``analytics stack jars``), passed as
``spark.jars``; ``spark.jars.packages`` is never used, so nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from analytics_pipeline.lakehouse.s3a import S3A_POM, is_s3a, s3a_spark_conf
from analytics_pipeline.objectstore.endpoint import S3Endpoint, s3_endpoint
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.jars import ensure_jars

LAKEHOUSE_POM = "spark-lakehouse"


def spark_session(
    settings: Settings, app_name: str = "analytics-lakehouse", *, s3a: bool | None = None
) -> SparkSession:
    """The process's session (Spark keeps one per JVM), built with Delta on first use; with S3A
    for the settings' S3 endpoint when the lake is on S3 (or ``s3a`` says so)."""
    master, memory = settings.spark_master, settings.spark_driver_memory
    with_s3 = is_s3a(settings.lake_root) if s3a is None else s3a
    s3 = s3_endpoint(settings) if with_s3 else None
    return build_spark_session(master, memory, settings.jar_root, app_name, s3=s3)


def build_spark_session(
    master: str,
    driver_memory: str,
    jar_root: Path,
    app_name: str = "analytics-lakehouse",
    *,
    s3: S3Endpoint | None = None,
) -> SparkSession:
    """``s3``: also S3A (its jars and settings) against that endpoint. Spark takes jars only when
    the JVM starts, so a process that may need S3 asks for it in its first session."""
    # Spark otherwise binds to a non-loopback address and starts workers with another python.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in lake_spark_conf(driver_memory, jar_root, s3=s3).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def lake_spark_conf(driver_memory: str, jar_root: Path, *, s3: S3Endpoint | None = None) -> dict[str, str]:
    """What every Spark that writes the lake is configured with, in its own process or as the
    long-lived Spark Connect server: Delta, the Kafka source, and S3A when ``s3`` is given."""
    poms = [LAKEHOUSE_POM, S3A_POM] if s3 is not None else [LAKEHOUSE_POM]
    jars = sorted(str(path) for pom in poms for path in ensure_jars(jar_root, pom).glob("*.jar"))
    conf = {
        "spark.jars": ",".join(jars),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": driver_memory,
        "spark.sql.shuffle.partitions": "8",
        # Delta rebuilds a table's state from its log in this many tasks (50 by default, sized for
        # clusters): on a few cores the task overhead costs seconds per write.
        "spark.databricks.delta.snapshotPartitions": "8",
        "spark.ui.showConsoleProgress": "false",
    }
    return conf | (s3a_spark_conf(s3) if s3 is not None else {})
