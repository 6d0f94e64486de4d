"""archival_sensor: plans archive runs from Kafka offsets, commits the ``archival`` group, and
retries failed runs.

Each tick, in this order:
1. commits the group through the ranges of successful archive runs (``advance_commits``: in order,
   so a range whose run failed holds back every later commit on its partition);
2. asks again for the ranges of each failed run not retried yet (an S3 outage makes runs fail;
   they are retried at the sensor's pace until the store is back, and nothing is skipped);
3. plans new ranges like the batch ETL (batch size, max wait, most records per run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import dagster as dg

from analytics_pipeline.lakehouse.batch_plan import PlannerCursor, advance_commits, plan_batches
from analytics_pipeline.lakehouse.offset_ranges import (
    OffsetRange,
    TopicPartitionKey,
    ranges_to_config,
    run_key,
)
from analytics_pipeline.timeutil import utc_now
from assets.keys import EVENTS_ARCHIVE
from jobs.archive import archive_events
from orchestration.resources import ArchivePolicyResource, KafkaResource
from sensors.run_ranges import runs_with_ranges, succeeded_ranges

ARCHIVE_OP = EVENTS_ARCHIVE.path[-1]  # the asset's op, whose config carries the ranges
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


def retry_requests(
    instance: dg.DagsterInstance, committed: Mapping[TopicPartitionKey, int], retried: set[str]
) -> tuple[list[dg.RunRequest], set[str]]:
    """One retry per failed run whose ranges are not all committed; the run ids now retried."""
    failed = runs_with_ranges(
        instance, archive_events.name, ARCHIVE_OP, dg.DagsterRunStatus.FAILURE, FAILED_RUNS_LOOKED_AT
    )
    requests = []
    for run, ranges in failed:
        if run.run_id in retried or not ranges or not unarchived(ranges, committed):
            continue
        requests.append(archive_run_request(ranges, retry_of=run.run_id))
    looked_at = {run.run_id for run, _ in failed}
    return requests, (retried & looked_at) | {r.tags[RETRY_OF_TAG] for r in requests}


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
        retries, retried = retry_requests(context.instance, committed, set(state.get("retried", [])))
        plan = plan_batches(cursor, committed, ends, archive_policy.policy(), utc_now())
        new_cursor = json.dumps({"planner": plan.cursor.to_json(), "retried": sorted(retried)})
        requests = retries + [archive_run_request(ranges) for ranges in plan.runs]
        if not requests:
            return dg.SensorResult(skip_reason=plan.reason, cursor=new_cursor)
        context.log.info(f"{len(plan.runs)} new run(s), {len(retries)} retried: {plan.reason}")
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)

    return archival_sensor
