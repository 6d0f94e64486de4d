"""The two paths the steady-state bench holds the ETL against, each into a lake of its own.

- The ceiling: the least a design writing both tables does (Spark's JSON reader, no check).
- The judge floor: the ceiling plus the least a design that judges every record in Python and
  keeps the failed ones does. Each record goes to a Python worker and back (Arrow, as the ETL's
  judge), its JSON is parsed there, one rule the bench breaks is checked, and the failed records
  get a third commit, to ``quarantined_events``. No schema, contract or quality rule, and no
  idempotence for bronze or the quarantine: whatever the ETL costs beyond it, a correct design
  could save; what it costs up to it, none could.
"""

from __future__ import annotations

import json

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.functions import arrow_udf

from analytics_pipeline.lakehouse.kafka_source import read_ranges
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, run_key
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.tables import VALIDATED_COLUMNS
from analytics_pipeline.lakehouse.validated_and_quarantined import append_new_events
from bench.etl.throughput import ENVELOPE_DDL, ENVELOPE_FIELDS_NOT_IN_BRONZE

# The throughput ceiling's envelope, with the schema version validated_events keeps.
VALIDATED_ENVELOPE_DDL = f"{ENVELOPE_DDL}, schemaVersion INT"
NOT_IN_BRONZE = (*ENVELOPE_FIELDS_NOT_IN_BRONZE, "passes")


def ceiling_batch(spark: SparkSession, servers: str, ranges: list[OffsetRange], lake: LakeTables) -> int:
    """The same read, the envelope parsed by Spark's own JSON reader with no check, cached, a
    bronze append, and the validated append with the ETL's own deduplication against the lake.
    Returns the events inserted."""
    return _write_batch(spark, servers, ranges, lake, judged=False)


def judge_floor_batch(spark: SparkSession, servers: str, ranges: list[OffsetRange], lake: LakeTables) -> int:
    """The ceiling, with each record judged in Python by the least check and the failed ones
    appended to the quarantine. Returns the events inserted."""
    return _write_batch(spark, servers, ranges, lake, judged=True)


def _write_batch(
    spark: SparkSession, servers: str, ranges: list[OffsetRange], lake: LakeTables, *, judged: bool
) -> int:
    batch_id = run_key(ranges)
    parsed = (
        read_ranges(spark, servers, ranges)
        .select("*", F.from_json(F.col("value").cast("string"), VALIDATED_ENVELOPE_DDL).alias("event"))
        .select("topic", "partition", "offset", "key", "value", "event.*")
        .withColumn("eventDate", F.to_date("timestamp"))
        .withColumn("batchId", F.lit(batch_id))
        .withColumn("passes", least_judge()(F.col("value")) if judged else F.lit(True))
        .cache()
    )
    try:
        parsed.count()
        bronze = parsed.drop(*NOT_IN_BRONZE)
        bronze.write.format("delta").mode("append").partitionBy("eventDate").save(lake.bronze_events)
        valid: DataFrame = parsed.where("passes").select(*VALIDATED_COLUMNS)
        inserted = append_new_events(spark, valid, lake.validated_events, batch_id).inserted
        if judged:
            failed = parsed.where("NOT passes").select("topic", "partition", "offset", "value", "batchId")
            failed.write.format("delta").mode("append").save(lake.quarantined_events)
        return inserted
    finally:
        parsed.unpersist()


def least_judge() -> Column:
    """An Arrow UDF: each record's JSON parsed in Python, and its currency, if any, upper case
    (the rule the bench's spoiled purchases break). Built per call, so it ships by value."""

    @arrow_udf("boolean")  # type: ignore[misc]
    def passes(values: pa.Array) -> pa.Array:
        verdicts = []
        for value in values.to_pylist():
            currency = json.loads(value)["properties"].get("currency")
            verdicts.append(currency is None or currency.isupper())
        return pa.array(verdicts, pa.bool_())

    return passes
