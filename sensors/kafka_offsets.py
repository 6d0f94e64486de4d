"""kafka_offsets_sensor: plans the batch ETL from Kafka offsets, and observes raw_events.

Each tick reads two things from Kafka (the raw topics' end offsets, the ``batch-etl`` group's
commits) and nothing else: the ETL's work happens in the runs. Its cursor holds the next offset
per partition, so a range is requested once; the run key names the ranges, so Dagster would
refuse a repeat anyway. When the raw topics grew, it records an observation of ``raw_events``
with the end offsets and the group's lag.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import dagster as dg

from analytics_pipeline.lakehouse.batch_plan import PlannerCursor, plan_batches
from analytics_pipeline.lakehouse.offset_ranges import (
    OffsetRange,
    TopicPartitionKey,
    ranges_to_config,
    run_key,
)
from analytics_pipeline.timeutil import utc_now
from jobs.lakehouse import kafka_batch_etl
from keys import BATCH_OP, LAKE_POOL, RAW_EVENTS, VALIDATED_EVENTS
from quality.etl_batch_checks import run_materializations
from resources.kafka import KafkaResource
from resources.policies import BatchPolicyResource


def batch_run_config(ranges: list[OffsetRange], replays: Sequence[str] = ()) -> dict[str, object]:
    config: dict[str, object] = {"ranges": ranges_to_config(ranges)}
    if replays:
        config["replays"] = list(replays)
    return {"ops": {BATCH_OP: {"config": config}}}


def run_request(ranges: list[OffsetRange], replays: Sequence[str] = ()) -> dg.RunRequest:
    """A run over the ranges. One that reads records again after a replay names the replay, in
    its key (so the same ranges run again) and in its config (so it skips what bronze holds)."""
    topics = sorted({r.topic for r in ranges})
    return dg.RunRequest(
        run_key=run_key(ranges, replays),
        run_config=batch_run_config(ranges, replays),
        tags={
            "analytics/records": str(sum(r.count for r in ranges)),
            "analytics/topics": ",".join(topics)[:200],
        },
    )


def observation(
    ends: dict[TopicPartitionKey, int], committed: dict[TopicPartitionKey, int]
) -> dg.AssetObservation:
    per_topic: dict[str, dict[str, int]] = {}
    for (topic, partition), end in sorted(ends.items()):
        per_topic.setdefault(topic, {})[str(partition)] = end
    lag = {
        topic: sum(end - committed.get((topic, int(p)), 0) for p, end in partitions.items())
        for topic, partitions in per_topic.items()
    }
    return dg.AssetObservation(
        RAW_EVENTS,
        metadata={
            "total_events": sum(ends.values()),
            "raw_topics": len(per_topic),
            "end_offsets": dg.MetadataValue.json(per_topic),
            "batch_etl_lag": sum(lag.values()),
            "batch_etl_lag_by_topic": dg.MetadataValue.json({t: n for t, n in lag.items() if n}),
        },
    )


WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]


def waiting_batch_run(instance: dg.DagsterInstance) -> str | None:
    """A kafka_batch_etl run whose batch is not being written yet: queued, starting, or started
    and waiting for the lake pool (one such run is launched ahead, dagster.yaml). While one
    waits, requesting more would only lengthen the queue: each run would hold ranges older than
    the one before it took, where one run taking everything pending when the pool frees keeps up."""
    job = kafka_batch_etl.name
    if queued := instance.get_run_records(dg.RunsFilter(job_name=job, statuses=WAITING), limit=1):
        return queued[0].dagster_run.run_id[:8]
    started = instance.get_run_records(dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.STARTED]))
    writing = instance.event_log_storage.get_concurrency_info(LAKE_POOL).active_run_ids
    for record in started:
        run_id = record.dagster_run.run_id
        if run_id in writing or _batch_written(instance, run_id):
            continue  # writing its batch, or checking what it wrote
        return run_id[:8]
    return None


def _batch_written(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Its validated_events are materialized: the step is done with the pool, or about to be."""
    return VALIDATED_EVENTS in run_materializations(instance, run_id)


def build_kafka_offsets_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="kafka_offsets_sensor",
        job=kafka_batch_etl,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests kafka_batch_etl runs over new Kafka offset ranges; observes raw_events.",
    )
    def kafka_offsets_sensor(
        context: dg.SensorEvaluationContext, kafka: KafkaResource, batch_policy: BatchPolicyResource
    ) -> dg.SensorResult:
        if waiting := waiting_batch_run(context.instance):
            return dg.SensorResult(  # the cursor stays: what is pending keeps its age
                skip_reason=f"run {waiting} waits for the lake; the next run takes what is pending then"
            )
        state = json.loads(context.cursor) if context.cursor else {}
        cursor = PlannerCursor.from_json(state.get("planner"))
        try:
            ends = kafka.raw_end_offsets()
            committed, replays = kafka.etl_commits()
        except Exception as exc:  # noqa: BLE001 - a tick that cannot reach Kafka says so and waits
            return dg.SensorResult(skip_reason=f"Kafka unreachable at {kafka.bootstrap_servers}: {exc}")
        plan = plan_batches(cursor, committed, ends, batch_policy.policy(), utc_now(), replays=replays)
        total = sum(ends.values())
        events = [observation(ends, committed)] if total != state.get("observed_total") else []
        new_cursor = json.dumps({"planner": plan.cursor.to_json(), "observed_total": total})
        if not plan.runs:
            return dg.SensorResult(skip_reason=plan.reason, asset_events=events, cursor=new_cursor)
        context.log.info(f"{len(plan.runs)} run(s) over {plan.pending} records: {plan.reason}")
        return dg.SensorResult(
            run_requests=[run_request(ranges, plan.cursor.replay_stamps(ranges)) for ranges in plan.runs],
            asset_events=events,
            cursor=new_cursor,
        )

    return kafka_offsets_sensor
