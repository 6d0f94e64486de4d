"""Asset checks of one ETL batch: reconciliation and the Great Expectations suites.

A step of their own after ``kafka_batch`` in each ETL run, over the rows that batch put in each
table (``batchId``), so each run is judged on its own data. The step only reads, so it is outside
the ``lake`` pool: the next run writes its batch meanwhile, and freshness does not wait on checks.

The row-level ERROR expectations are also applied to each record before it is written
(``analytics_pipeline.events.quality_rules``): a record that breaks one is quarantined with the
rule as its reason, so these suites verify that nothing slipped through and check what only a
set of rows can show (eventId unique per project). None of them stops the run: a failed Dagster
"blocking" check would fail the step, its offsets would never be committed, and one bad event
would stall the ETL for every tenant behind it.
"""

# No `from __future__ import annotations` here: Dagster reads the context annotation when decorating.

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import dagster as dg
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics_pipeline.events.quality_rules import ENVELOPE_SUITE, PURCHASE_SUITE
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.reconcile import BatchReconciliation, reconcile_batch
from keys import (
    BATCH_CHECKS_OP,
    BATCH_RECONCILIATION,
    BRONZE_EVENTS,
    BRONZE_EXPECTATIONS,
    VALIDATED_EVENTS,
)
from quality.expectations import (
    SuiteOutcome,
    bronze_suite_outcome,
    envelope_suite_outcome,
    purchase_suite_outcome,
)
from resources.lakehouse import LakehouseResource, MetadataResource, QualityResource
from resources.policies import STEP_RETRIES

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


@dataclass(frozen=True)
class WrittenBatch:
    """What a run's kafka_batch step wrote, as its materializations say."""

    batch_id: str
    records_read: int
    event_dates: list[date]
    projects: list[str]


def run_materializations(instance: dg.DagsterInstance, run_id: str) -> dict[dg.AssetKey, dict]:
    """The metadata of each asset the run materialized."""
    return {
        entry.asset_materialization.asset_key: entry.asset_materialization.metadata
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100
        ).records
        if (entry := record.event_log_entry).asset_materialization is not None
    }


def written_batch(instance: dg.DagsterInstance, run: dg.DagsterRun) -> WrittenBatch:
    """From the run's own materializations, or, for a re-execution that skipped the step (a
    retried run starts from what failed), from the runs it re-executes."""
    run_id: str | None = run.run_id
    while run_id:
        found = run_materializations(instance, run_id)
        if BRONZE_EVENTS in found and VALIDATED_EVENTS in found:
            bronze, validated = found[BRONZE_EVENTS], found[VALIDATED_EVENTS]
            return WrittenBatch(
                batch_id=str(bronze["batch_id"].value),
                records_read=int(bronze["records_read"].value),
                event_dates=[date.fromisoformat(d) for d in validated["event_dates"].value],
                projects=list(validated["projects"].value),
            )
        parent = instance.get_run_by_id(run_id)
        run_id = parent.parent_run_id if parent else None
    raise dg.Failure(f"run {run.run_id} has no kafka_batch materializations to check", allow_retries=False)


@dg.multi_asset_check(
    name=BATCH_CHECKS_OP,
    specs=BATCH_CHECK_SPECS,
    retry_policy=STEP_RETRIES,
    description="Reconciliation and the GX suites over the rows the run's batch wrote.",
)
def kafka_batch_checks(
    context: dg.AssetCheckExecutionContext,
    lakehouse: LakehouseResource,
    metadata: MetadataResource,
    quality: QualityResource,
) -> Iterator[dg.AssetCheckResult]:
    batch = written_batch(context.instance, context.run)
    spark, tables = lakehouse.spark(), lakehouse.tables
    reconciliation = reconcile_batch(
        spark, tables, batch.batch_id, batch.records_read, batch.event_dates, batch.projects
    )
    yield from batch_check_results(
        spark,
        tables,
        batch.batch_id,
        reconciliation=reconciliation,
        quality=quality,
        registered_types=frozenset(s.event_type for s in metadata.all_schemas(batch.projects)),
    )


def batch_check_results(
    spark: SparkSession,
    tables: LakeTables,
    batch_id: str,
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
    bronze = _batch_rows(spark, tables.bronze_events, batch_id).select(
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
        _batch_rows(spark, tables.validated_events, batch_id)
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
