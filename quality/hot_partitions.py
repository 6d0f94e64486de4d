"""raw_events' hot_partitions and produce_skew checks: WARN while a partition is out of line.

hot_partition_sensor reports their evaluations (``SensorResult(asset_events=...)``) whenever its
alerts change, judged over the sustain time it keeps in its cursor. Run by hand, the checks judge
Kafka as it is at that moment (no sustain), which says whether an alert is coming.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import dagster as dg

from analytics_pipeline.operations.hot_partitions import (
    LAG,
    SKEW,
    Alert,
    HotState,
    TopicPartitionKey,
    TopKeys,
    alert_json,
    assess,
    describe,
)
from keys import HOT_PARTITIONS_CHECK, PRODUCE_SKEW_CHECK, RAW_EVENTS
from resources.kafka import HotPartitionResource

CHECK_OF_KIND = {LAG: HOT_PARTITIONS_CHECK, SKEW: PRODUCE_SKEW_CHECK}
PASSED = {
    LAG: "no consumer group lags on a partition beyond its topic's average",
    SKEW: "no partition receives a skewed share of its topic's records",
}


def check_outcome(
    kind: str, alerts: Sequence[Alert], keys: Mapping[TopicPartitionKey, TopKeys], now: float, judged: str
) -> dict[str, Any]:
    """The fields of an AssetCheckEvaluation (sensor) or AssetCheckResult (run by hand)."""
    found = [(alert_json(a, keys.get(_tp(a)), now), describe(a, keys.get(_tp(a)), now)) for a in alerts]
    return {
        "check_name": CHECK_OF_KIND[kind],
        "passed": not alerts,
        "severity": dg.AssetCheckSeverity.WARN,
        "description": "\n".join(line for _, line in found) or PASSED[kind],
        "metadata": {
            "alerts": len(alerts),
            "partitions": dg.MetadataValue.json([entry for entry, _ in found]),
            "summary": dg.MetadataValue.md(_table(found)),
            "judged": judged,
        },
    }


def check_evaluation(
    kind: str, alerts: Sequence[Alert], keys: Mapping[TopicPartitionKey, TopKeys], now: float, judged: str
) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(asset_key=RAW_EVENTS, **check_outcome(kind, alerts, keys, now, judged))


def _tp(alert: Alert) -> TopicPartitionKey:
    return alert.finding.topic, alert.finding.partition


def _table(found: list[tuple[dict[str, Any], str]]) -> str:
    if not found:
        return "nothing out of line"
    rows = [
        "| partition | group | lag | share | top eventTypes | top userIds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for entry, _ in found:
        types = ", ".join(f"{k} {v}" for k, v in entry.get("top_event_types", {}).items())
        users = ", ".join(f"{k} {v}" for k, v in entry.get("top_user_ids", {}).items())
        rows.append(
            f"| {entry['topic']}/{entry['partition']} | {entry.get('group', '-')} | {entry.get('lag', '-')} "
            f"| {entry['share_of_topic_traffic']:.0%} | {types} | {users} |"
        )
    return "\n".join(rows)


def judged_now(kind: str, hot_partitions: HotPartitionResource) -> dg.AssetCheckResult:
    """Kafka as it is now, without the sustain time."""
    now = time.time()
    instant = replace(hot_partitions.rule(), sustain_s=0.0)
    alerts = assess(HotState(), hot_partitions.look(), now, instant).of_kind(kind)
    keys = hot_partitions.top_keys(sorted({_tp(a) for a in alerts}))
    return dg.AssetCheckResult(asset_key=RAW_EVENTS, **check_outcome(kind, alerts, keys, now, "by hand, now"))


@dg.asset_check(
    asset=RAW_EVENTS,
    name=HOT_PARTITIONS_CHECK,
    description=(
        "WARN while a consumer group's lag on a partition stays above the factor times its topic's "
        "average for the sustain time (reported by hot_partition_sensor; run by hand: judged now)."
    ),
)
def hot_partitions_check(hot_partitions: HotPartitionResource) -> dg.AssetCheckResult:
    return judged_now(LAG, hot_partitions)


@dg.asset_check(
    asset=RAW_EVENTS,
    name=PRODUCE_SKEW_CHECK,
    description=(
        "WARN while a partition received more than the factor times its topic's average over the "
        "last minute (reported by hot_partition_sensor; run by hand: judged now)."
    ),
)
def produce_skew_check(hot_partitions: HotPartitionResource) -> dg.AssetCheckResult:
    return judged_now(SKEW, hot_partitions)
