"""hot_partition_sensor: alerts on hot partitions of the raw topics, in the UI and the logs.

Each tick reads the raw partitions' end offsets (now and a minute back) and the commits of every
consumer group the pipeline owns, and judges them with ``operations.hot_partitions``: a group's
lag on a partition above the factor times its topic's average, seen at every tick for the
sustain time, is an alert; so is, at once, a partition receiving more than the factor times its
topic's average. Since when each partition has been out of line is the JSON cursor. When the
alerts change, the tick reports raw_events' hot_partitions and produce_skew checks (WARN with
topic, partition, lag, share of traffic and the top eventTypes and userIds of the partition's
latest records, or passed once cleared) and logs each alert raised or cleared.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg

from analytics_pipeline.operations.hot_partitions import (
    Alert,
    Assessment,
    HotState,
    TopicPartitionKey,
    TopKeys,
    assess,
    describe,
    key_label,
)
from quality.hot_partitions import check_evaluation
from resources.kafka import HotPartitionResource


def build_hot_partition_sensor(
    interval_s: int, clock: Callable[[], float] = time.time
) -> dg.SensorDefinition:
    @dg.sensor(
        name="hot_partition_sensor",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "WARNs on raw_events when a consumer group's lag on a partition stays above the factor "
            "times its topic's average (ANALYTICS_HOT_PARTITION_*), or a partition's produce rate is skewed."
        ),
    )
    def hot_partition_sensor(
        context: dg.SensorEvaluationContext, hot_partitions: HotPartitionResource
    ) -> dg.SensorResult:
        state, now = HotState.parse(context.cursor), clock()  # the tick's start: ticks are spaced by it
        try:
            found = hot_partitions.look()
        except Exception as exc:  # noqa: BLE001 - a tick that cannot reach Kafka says so; the clocks wait
            return dg.SensorResult(
                skip_reason=f"Kafka unreachable at {hot_partitions.kafka.bootstrap_servers}: {exc}",
                cursor=context.cursor,
            )
        assessment = assess(state, found, now, hot_partitions.rule())
        reported = [a for a in assessment.alerts if a.finding.kind in assessment.changed]
        keys = _top_keys(context, hot_partitions, reported)
        for alert in assessment.raised:
            tp = (alert.finding.topic, alert.finding.partition)
            context.log.warning(describe(alert, keys.get(tp), now))
        for key in assessment.cleared:
            context.log.info(f"cleared: {key_label(key)}")
        judged = f"hot_partition_sensor, lag sustained {hot_partitions.sustain_s:g} s"
        events = [
            check_evaluation(kind, assessment.of_kind(kind), keys, now, judged) for kind in assessment.changed
        ]
        return dg.SensorResult(
            skip_reason=_summary(assessment, len(found)), asset_events=events, cursor=assessment.state.dumps()
        )

    return hot_partition_sensor


def _top_keys(
    context: dg.SensorEvaluationContext, hot_partitions: HotPartitionResource, alerts: list[Alert]
) -> dict[TopicPartitionKey, TopKeys]:
    """The keys of the alerted partitions' latest records; an alert is worth raising without them."""
    partitions = sorted({(a.finding.topic, a.finding.partition) for a in alerts})
    if not partitions:
        return {}
    try:
        return hot_partitions.top_keys(partitions)
    except Exception as exc:  # noqa: BLE001 - named in the log, the alert goes out anyway
        context.log.warning(f"could not read the latest records of {partitions}: {exc}")
        return {}


def _summary(assessment: Assessment, out_of_line: int) -> str:
    if assessment.alerts:
        named = ", ".join(f"{a.finding.kind} {a.finding.label}" for a in assessment.alerts[:10])
        return f"{len(assessment.alerts)} alert(s) in force: {named}"
    if out_of_line:
        return f"{out_of_line} partition(s) out of line, not yet for the sustain time"
    return "no partition out of line"
