"""One tiny batch through the ETL's own code into a scratch lake, so that a new Spark server pays
its cold start before the first real batch does.

A fresh Spark Connect server spends its first batch on what a JVM and its Python workers do once:
loading Delta's and the judge's classes and modules, compiling the plans' code, forking the
workers. Measured on 2 cores with 42-record batches, that doubled the first batch's step (15.6 s,
then 7-8 s) and made the stack's first events take 21-34 s to become queryable (`bench.etl`).
`analytics stack up` runs this in a process of its own (a process is either a Spark Connect
client or a classic Spark driver, never both) while Dagster starts.

Run as ``python -m analytics_pipeline.lakehouse.warm_up URL SCRATCH``: prints what it wrote as
one JSON line and removes the scratch lake.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from pyspark.sql import SparkSession

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.kafka_io.producer import OutgoingRecord
from analytics_pipeline.lakehouse.batch_etl import write_batch
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.timeutil import format_rfc3339, utc_now

PROJECT = "warmup"
RECORD_COLUMNS = (  # the Kafka source's
    "key binary, value binary, topic string, partition int, offset long, "
    "timestamp timestamp, timestampType int"
)
RULES = QualityRules.of(max_event_age_s=3_600, max_future_skew_s=600)


@dataclass(frozen=True)
class WarmUp:
    seconds: float
    records: int
    validated: int
    quarantined: int


def warm_up(spark: SparkSession, scratch: Path) -> WarmUp:
    """A valid record and a broken one, written as a batch to the three tables under ``scratch``."""
    started = time.perf_counter()
    now = utc_now()
    valid = _valid_record(now)
    rows = [
        (valid.key, valid.value, valid.topic, 0, 0, now, 0),
        (b"broken", b"not json", valid.topic, 0, 1, now, 0),  # judged, then quarantined
    ]
    records = spark.createDataFrame(rows, RECORD_COLUMNS)
    report = write_batch(
        spark, records, LakeTables(str(scratch)), [], RULES, batch_id=f"warm-up-{uuid.uuid4().hex}"
    )
    seconds = time.perf_counter() - started
    return WarmUp(seconds, report.records_read, report.validated_added, report.quarantined)


def _valid_record(now: datetime) -> OutgoingRecord:
    event = {
        "eventId": f"evt_{uuid.uuid4().hex}",
        "eventType": "page_view",
        "userId": "warm-up",
        "timestamp": format_rfc3339(now),
        "properties": {},
    }
    window = TimeWindow(max_future=RULES.max_future, max_age=RULES.max_age)
    checked, errors = validate_event(event, received_at=now, window=window)
    if checked is None:
        raise AssertionError(f"the warm-up event breaks the envelope: {errors}")
    return kafka_record(checked, PROJECT, now)


def main(argv: list[str]) -> None:
    from analytics_pipeline.lakehouse.spark_connect import connect_session  # noqa: PLC0415 - Connect mode

    url, scratch = argv[0], Path(argv[1])
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        outcome = warm_up(connect_session(url), scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(asdict(outcome)))


if __name__ == "__main__":
    main(sys.argv[1:])
