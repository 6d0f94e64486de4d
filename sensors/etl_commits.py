"""batch_etl_commit_sensor: commits the ``batch-etl`` group's offsets after successful runs.

Stateless on purpose: each tick takes the group's committed offsets from Kafka and the ranges of
recent successful kafka_batch_etl runs (from their run config), and moves each partition's
offset through the contiguous ranges (``advance_commits``). A range whose run failed holds back
every later commit on its partition until a retry or re-execution of it succeeds; so Kafka's lag
never hides a range that was not applied.
"""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.lakehouse.batch_plan import advance_commits
from analytics_pipeline.lakehouse.offset_ranges import TopicPartitionKey, op_config
from analytics_pipeline.timeutil import parse_rfc3339
from jobs.lakehouse import kafka_batch_etl
from keys import BATCH_OP
from resources.kafka import KafkaResource
from sensors.run_ranges import runs_with_ranges, succeeded_ranges


def commits_to_make(
    instance: dg.DagsterInstance,
    committed: dict[TopicPartitionKey, int],
    replays: dict[TopicPartitionKey, str],
) -> dict[TopicPartitionKey, int]:
    """``advance_commits`` per partition; a replayed partition moves only through the ranges of
    runs that read again for its replay (their config names it) or were created after it, so
    the first pass's runs cannot undo the replay."""
    job, plain = kafka_batch_etl.name, {tp: o for tp, o in committed.items() if tp not in replays}
    recent = runs_with_ranges(instance, job, BATCH_OP, dg.DagsterRunStatus.SUCCESS)
    ranges = [r for _run, rs in recent for r in rs if (r.topic, r.partition) not in replays]
    moved = advance_commits(plain, ranges)
    for stamp in sorted(set(replays.values())):
        replayed = {tp for tp, s in replays.items() if s == stamp}
        since = succeeded_ranges(instance, job, BATCH_OP, created_after=parse_rfc3339(stamp))
        naming = [rs for run, rs in recent if stamp in op_config(run.run_config, BATCH_OP).get("replays", [])]
        named = [r for rs in naming for r in rs]
        moved |= advance_commits(
            {tp: committed.get(tp, 0) for tp in replayed},
            [r for r in [*since, *named] if (r.topic, r.partition) in replayed],
        )
    return moved


def build_batch_etl_commit_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="batch_etl_commit_sensor",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Commits the batch-etl group's Kafka offsets through the ranges of successful ETL runs.",
    )
    def batch_etl_commit_sensor(context: dg.SensorEvaluationContext, kafka: KafkaResource) -> dg.SkipReason:
        try:
            committed, replays = kafka.etl_commits()
            moved = commits_to_make(context.instance, committed, replays)
            # a replay committed meanwhile wins: commit only partitions still as they were read
            now_committed, now_replays = kafka.etl_commits() if moved else (committed, replays)
            moved = {
                tp: offset
                for tp, offset in moved.items()
                if (now_committed.get(tp), now_replays.get(tp)) == (committed.get(tp), replays.get(tp))
            }
            kafka.commit_etl(moved, replays)
        except Exception as exc:  # noqa: BLE001 - the next tick tries again; nothing is lost meanwhile
            return dg.SkipReason(f"could not commit to Kafka at {kafka.bootstrap_servers}: {exc}")
        if not moved:
            return dg.SkipReason("nothing new to commit")
        shown = sorted(f"{t}/{p}={o}" for (t, p), o in moved.items())
        context.log.info(f"committed {len(moved)} partition(s) of group {kafka.etl_group}")
        return dg.SkipReason(f"committed {len(moved)} partition(s): {', '.join(shown[:20])}")

    return batch_etl_commit_sensor
