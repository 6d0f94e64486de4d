"""Asset checks of one ETL batch: reconciliation and the Great Expectations suites.

Run inside the ``kafka_batch`` step, over the rows this batch put in each table (``batchId``),
so each run is judged on its own data. The row-level ERROR expectations are also applied to each
record before it is written (``analytics_pipeline.events.quality_rules``): a record that breaks
one is quarantined with the rule as its reason, so these suites verify that nothing slipped
through and check what only a set of rows can show (eventId unique per project). None of them
stops the run: a failed Dagster "blocking" check would fail the step, its offsets would never be
committed, and one bad event would stall the ETL for every tenant behind it.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import ENVELOPE_SUITE, PURCHASE_SUITE
from analytics_pipeline.lakehouse.batch_etl import BatchReport
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.reconcile import BatchReconciliation
from keys import BATCH_RECONCILIATION, BRONZE_EVENTS, BRONZE_EXPECTATIONS, VALIDATED_EVENTS
from quality.expectations import (
    SuiteOutcome,
    bronze_suite_outcome,
    envelope_suite_outcome,
    purchase_suite_outcome,
)
from resources.lakehouse import QualityResource

ENVELOPE_EXPECTATIONS = ENVELOPE_SUITE
PURCHASE_EXPECTATIONS = PURCHASE_SUITE

BATCH_CHECK_SPECS = [
    dg.AssetCheckSpec(
        BATCH_RECONCILIATION,
        asset=BRONZE_EVENTS,
        description="Records read = bronze rows; each is validated, quarantined or a duplicate, once.",
    ),
    dg.AssetCheckSpec(
        BRONZE_EXPECTATIONS,
        asset=BRONZE_EVENTS,
        description="GX: key and value present, Kafka position unique, projectId known (WARN).",
    ),
    dg.AssetCheckSpec(
        ENVELOPE_EXPECTATIONS,
        asset=VALIDATED_EVENTS,
        description=(
            "GX (ERROR): eventId present, unique per project, well-formed; eventType known; userId; "
            "timestamp within the ingestion window of its receive time."
        ),
    ),
    dg.AssetCheckSpec(
        PURCHASE_EXPECTATIONS,
        asset=VALIDATED_EVENTS,
        description="GX (ERROR): purchase amount a number >= 0, currency in the accepted set.",
    ),
]


def batch_check_results(
    spark: SparkSession,
    tables: LakeTables,
    report: BatchReport,
    *,
    reconciliation: BatchReconciliation,
    quality: QualityResource,
    registered_types: frozenset[str] = frozenset(),
) -> Iterator[dg.AssetCheckResult]:
    yield dg.AssetCheckResult(
        asset_key=BRONZE_EVENTS,
        check_name=BATCH_RECONCILIATION,
        passed=reconciliation.balanced,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=reconciliation.as_dict(),
    )
    bronze = _batch_rows(spark, tables.bronze_events, report.batch_id).select(
        F.col("key").cast("string"),
        F.col("value").cast("string"),
        "topic",
        "partition",
        "offset",
        "projectId",
    )
    yield _suite_result(
        BRONZE_EVENTS, BRONZE_EXPECTATIONS, bronze_suite_outcome(bronze.toPandas()), warn=True
    )
    validated = (
        _batch_rows(spark, tables.validated_events, report.batch_id)
        .select("projectId", "eventId", "eventType", "userId", "timestamp", "receivedAt", "properties")
        .toPandas()
    )
    envelope = envelope_suite_outcome(
        validated,
        max_age=quality.max_event_age(),
        max_future=quality.max_future(),
        registered_types=registered_types,
    )
    yield _suite_result(VALIDATED_EVENTS, ENVELOPE_EXPECTATIONS, envelope)
    purchases = purchase_suite_outcome(validated, currencies=quality.currency_set())
    yield _suite_result(VALIDATED_EVENTS, PURCHASE_EXPECTATIONS, purchases)


def _batch_rows(spark: SparkSession, path: str, batch_id: str) -> DataFrame:
    return spark.read.format("delta").load(path).where(F.col("batchId") == batch_id)


def _suite_result(
    asset: dg.AssetKey, name: str, outcome: SuiteOutcome, *, warn: bool = False
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        metadata={
            k: dg.MetadataValue.json(v) if isinstance(v, list) else v
            for k, v in outcome.as_metadata().items()
        },
    )
