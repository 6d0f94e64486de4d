"""Asset checks: thin Dagster wrappers over the pure validators of this package."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.kafka_io.admin import tail_records
from keys import RAW_EVENTS
from quality.raw_events import check_records
from resources.kafka import KafkaResource

SAMPLE_PER_PARTITION = 200


@dg.asset_check(
    asset=RAW_EVENTS,
    name="raw_record_contract",
    description=f"The newest {SAMPLE_PER_PARTITION} records per partition of raw topics keep the contract.",
)
def raw_record_contract(kafka: KafkaResource) -> dg.AssetCheckResult:
    topics = sorted(kafka.raw_topic_offsets())
    records = tail_records(kafka.bootstrap_servers, topics, SAMPLE_PER_PARTITION)
    report = check_records(records)
    return dg.AssetCheckResult(
        passed=report.passed,
        metadata={
            "topics": len(topics),
            "records_checked": report.checked,
            "records_violating": report.violating,
            "problems": dict(report.problems),
            "violating_by_topic": dict(report.violating_by_topic),
            "examples": "\n".join(report.examples) or "none",
        },
    )
