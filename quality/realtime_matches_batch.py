"""Asset check ``realtime_matches_batch``: the streaming worker's hourly counts in Redis against
the lake, for the projects of the ETL run and every hour both sides hold (the current one too).

Runs after each kafka_batch_etl batch (a WARN check: a difference is reported, nothing waits on
it). It compares only once the worker has read at least as far as the batch, so a lagging worker
is reported as such rather than as wrong counts; hours that records the worker read beyond the
lake fall in are left out; and when nothing is left to compare it says so instead of passing.
"""

# No `from __future__ import annotations` here: Dagster reads the context annotation when decorating.

import time

import dagster as dg
import redis

from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, op_ranges
from analytics_pipeline.lakehouse.realtime_compare import compare_hours, hours_of
from analytics_pipeline.timeutil import utc_now
from keys import BATCH_OP, REALTIME_MATCHES_BATCH, VALIDATED_EVENTS
from resources.kafka import KafkaResource
from resources.lakehouse import LakehouseResource
from resources.realtime import RealtimeResource

WORKER_WAIT_S = 30.0  # how long the check gives the worker to reach the batch's offsets


def worker_shortfall(kafka: KafkaResource, group: str, ranges: list[OffsetRange]) -> int | None:
    """Records of ``ranges`` the streaming worker's group has not committed yet; None when the
    group never committed any of their partitions (no worker reads these topics)."""
    committed = kafka.committed(group)
    if not any((r.topic, r.partition) in committed for r in ranges):
        return None
    return sum(max(0, r.end - max(r.start, committed.get((r.topic, r.partition), 0))) for r in ranges)


def not_compared(reason: str, **metadata: object) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"not compared: {reason}",
        metadata={"compared": False, "reason": reason, **metadata},
    )


@dg.asset_check(
    asset=VALIDATED_EVENTS,
    name=REALTIME_MATCHES_BATCH,
    description=(
        "Redis hourly all_events counts (streaming worker) = the lake's events per hour (validated, "
        "or quarantined past the contract), over every hour both hold."
    ),
)
def realtime_matches_batch(
    context: dg.AssetCheckExecutionContext,
    kafka: KafkaResource,
    lakehouse: LakehouseResource,
    realtime: RealtimeResource,
) -> dg.AssetCheckResult:
    ranges = op_ranges(context.run.run_config, BATCH_OP)
    projects = sorted({p for r in ranges if (p := project_of_raw_topic(r.topic))})
    deadline = time.monotonic() + WORKER_WAIT_S
    while (behind := worker_shortfall(kafka, realtime.stream_group, ranges)) and time.monotonic() < deadline:
        time.sleep(1)
    if behind is None:
        return not_compared(f"group {realtime.stream_group} has never read these topics")
    if behind:
        return not_compared(
            f"the streaming worker is {behind} records behind this batch", worker_behind=behind
        )
    unread = hours_of(kafka.records(unread_spans(kafka, realtime.stream_group, ranges)))
    try:
        with realtime.client() as client:
            hours = compare_hours(
                lakehouse.spark(),
                client,
                lakehouse.tables,
                projects,
                now=utc_now(),
                ttl_windows=realtime.metric_ttl_windows,
                unread_by_lake=unread,
            )
    except redis.RedisError as exc:
        return not_compared(f"Redis at {realtime.redis_url} did not answer: {exc}")
    compared = {
        "hours_compared": len(hours),
        "hours_left_out": len(unread),
        "realtime_events": sum(h.realtime for h in hours),
        "batch_events": sum(h.batch for h in hours),
    }
    if not compared["realtime_events"] and not compared["batch_events"]:
        return not_compared("nothing comparable: no event in the hours both sides hold", **compared)
    differences = [h for h in hours if h.difference]
    rows = "\n".join(
        f"| {h.project_id} | {h.hour:%Y-%m-%d %H:00} | {h.realtime} | {h.batch} | {h.difference:+d} |"
        for h in differences[:50]
    )
    return dg.AssetCheckResult(
        passed=not differences,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "compared": True,
            **compared,
            "projects": dg.MetadataValue.json(projects),
            "windows_differing": len(differences),
            "differences": dg.MetadataValue.md(
                "| project | hour (UTC) | Redis | lake | diff |\n|---|---|---|---|---|\n" + rows
            )
            if differences
            else "none",
        },
    )


def unread_spans(
    kafka: KafkaResource, group: str, ranges: list[OffsetRange]
) -> dict[tuple[str, int], tuple[int, int]]:
    """Per partition of the run's topics, the offsets the worker has read and the lake has not:
    from this batch's end (elsewhere the ETL group's commit) to the worker's commit."""
    topics = {r.topic for r in ranges}
    lake = {tp: offset for tp, offset in kafka.etl_committed().items() if tp[0] in topics}
    lake.update({(r.topic, r.partition): r.end for r in ranges})
    worker = {tp: offset for tp, offset in kafka.committed(group).items() if tp[0] in topics}
    return {tp: (lake.get(tp, 0), end) for tp, end in worker.items() if end > lake.get(tp, 0)}
