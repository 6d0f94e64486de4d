"""A Spark session with Delta Lake and the Kafka batch source, from jars fetched by Maven.

The jars come from ``infra/jvm/spark-lakehouse.pom.xml`` (``analytics stack jars``), passed as
``spark.jars``; ``spark.jars.packages`` is never used, so nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.jars import ensure_jars

LAKEHOUSE_POM = "spark-lakehouse"


def spark_session(settings: Settings, app_name: str = "analytics-lakehouse") -> SparkSession:
    """The process's session (Spark keeps one per JVM), built with Delta on first use."""
    master, memory = settings.spark_master, settings.spark_driver_memory
    return build_spark_session(master, memory, settings.jar_root, app_name)


def build_spark_session(
    master: str, driver_memory: str, jar_root: Path, app_name: str = "analytics-lakehouse"
) -> SparkSession:
    # Spark otherwise binds to a non-loopback address and starts workers with another python.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jars = sorted(str(path) for path in ensure_jars(jar_root, LAKEHOUSE_POM).glob("*.jar"))
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.jars", ",".join(jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", "8")
        # Delta rebuilds a table's state from its log in this many tasks (50 by default, sized for
        # clusters): on a few cores the task overhead costs seconds per write.
        .config("spark.databricks.delta.snapshotPartitions", "8")
        .config("spark.ui.showConsoleProgress", "false")
    )
    return builder.getOrCreate()
