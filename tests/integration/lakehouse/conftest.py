"""One Spark session for every lakehouse test (starting one costs seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from analytics_pipeline.lakehouse.spark import spark_session
from analytics_pipeline.settings import Settings


@pytest.fixture(scope="session")
def spark(stack_settings: Settings) -> Iterator[SparkSession]:
    session = spark_session(stack_settings.model_copy(update={"spark_master": "local[2]"}))
    yield session
    session.stop()
