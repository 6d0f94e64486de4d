"""archival_sensor: plans archive runs from Kafka offsets, commits the ``archival`` group, and
retries failed runs.

Each tick, in this order:
1. commits the group through the ranges of successful archive runs (``advance_commits``: in order,
   so a range whose run failed holds back every later commit on its partition);
2. asks again for the ranges of each failed or canceled run not retried yet (an S3 outage makes
   runs fail; they are retried at the sensor's pace until the store is back, nothing is skipped);
3. plans new ranges like the batch ETL (batch size, max wait, most records per run), but only
   while no failed range waits: during an outage the retries stay few, and once the store is back
   the backlog is planned from the commits in runs of the usual size.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from analytics_pipeline.lakehouse.batch_plan import PlannerCursor, advance_commits, plan_batches
from analytics_pipeline.lakehouse.offset_ranges import (
    OffsetRange,
    TopicPartitionKey,
    ranges_to_config,
    run_key,
)
from analytics_pipeline.timeutil import utc_now
from jobs.archive import archive_events
from keys import ARCHIVE_OP
from resources.kafka import KafkaResource
from resources.policies import ArchivePolicyResource
from sensors.run_ranges import runs_with_ranges, succeeded_ranges

RETRY_OF_TAG = "analytics/retry_of"
FAILED_RUNS_LOOKED_AT = 100


def archive_run_config(ranges: list[OffsetRange]) -> dict[str, object]:
    return {"ops": {ARCHIVE_OP: {"config": {"ranges": ranges_to_config(ranges)}}}}


def archive_run_request(ranges: list[OffsetRange], retry_of: str | None = None) -> dg.RunRequest:
    key = f"archive-{run_key(ranges)}"
    tags = {"analytics/records": str(sum(r.count for r in ranges))}
    if retry_of:
        key, tags[RETRY_OF_TAG] = f"{key}-retry-{retry_of}", retry_of
    return dg.RunRequest(run_key=key, run_config=archive_run_config(ranges), tags=tags)


def unarchived(ranges: list[OffsetRange], committed: Mapping[TopicPartitionKey, int]) -> bool:
    return any(r.end > committed.get((r.topic, r.partition), 0) for r in ranges)


@dataclass(frozen=True)
class Retries:
    requests: list[dg.RunRequest]  # one per failed run not retried yet
    retried: set[str]  # the failed runs retried, now or before
    waiting: int  # failed runs whose ranges are not all committed yet


def retry_requests(
    instance: dg.DagsterInstance, committed: Mapping[TopicPartitionKey, int], retried: set[str]
) -> Retries:
    """One retry per failed (or canceled) run whose ranges are not all committed."""
    failed = [
        (run, ranges)
        for status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
        for run, ranges in runs_with_ranges(
            instance, archive_events.name, ARCHIVE_OP, status, limit=FAILED_RUNS_LOOKED_AT
        )
        if ranges and unarchived(ranges, committed)
    ]
    failed.sort(key=lambda item: item[1])  # retried in offset order, as commits need them
    requests = [
        archive_run_request(ranges, retry_of=run.run_id)
        for run, ranges in failed
        if run.run_id not in retried
    ]
    now_retried = (retried & {run.run_id for run, _ in failed}) | {r.tags[RETRY_OF_TAG] for r in requests}
    return Retries(requests, now_retried, len(failed))


def build_archival_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="archival_sensor",
        job=archive_events,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Requests archive_events runs over new Kafka offset ranges, retries failed ones, and "
            "commits the archival group through the ranges of successful runs."
        ),
    )
    def archival_sensor(
        context: dg.SensorEvaluationContext, kafka: KafkaResource, archive_policy: ArchivePolicyResource
    ) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        cursor = PlannerCursor.from_json(state.get("planner"))
        group = kafka.archive_group
        try:
            ends = kafka.raw_end_offsets()
            committed = kafka.committed(group)
            moved = advance_commits(
                committed, succeeded_ranges(context.instance, archive_events.name, ARCHIVE_OP)
            )
            kafka.commit(group, moved)
        except Exception as exc:  # noqa: BLE001 - a tick that cannot reach Kafka says so and waits
            return dg.SensorResult(skip_reason=f"Kafka unreachable at {kafka.bootstrap_servers}: {exc}")
        if moved:
            context.log.info(f"committed {len(moved)} partition(s) of group {group}")
        committed = {**committed, **moved}
        retries = retry_requests(context.instance, committed, set(state.get("retried", [])))
        if retries.waiting:  # plan nothing new while a range waits; the backlog is planned later
            new_cursor = json.dumps({"planner": state.get("planner"), "retried": sorted(retries.retried)})
            reason = (
                f"{retries.waiting} failed run(s) wait for their retry; {len(retries.requests)} retried now"
            )
            if not retries.requests:
                return dg.SensorResult(skip_reason=reason, cursor=new_cursor)
            context.log.info(reason)
            return dg.SensorResult(run_requests=retries.requests, cursor=new_cursor)
        plan = plan_batches(cursor, committed, ends, archive_policy.policy(), utc_now())
        new_cursor = json.dumps({"planner": plan.cursor.to_json(), "retried": sorted(retries.retried)})
        if not plan.runs:
            return dg.SensorResult(skip_reason=plan.reason, cursor=new_cursor)
        context.log.info(f"{len(plan.runs)} new run(s): {plan.reason}")
        return dg.SensorResult(
            run_requests=[archive_run_request(ranges) for ranges in plan.runs], cursor=new_cursor
        )

    return archival_sensor
