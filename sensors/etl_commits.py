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
from jobs.lakehouse import kafka_batch_etl
from orchestration.resources import KafkaResource
from sensors.kafka_offsets import BATCH_OP
from sensors.run_ranges import succeeded_ranges


def build_batch_etl_commit_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="batch_etl_commit_sensor",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Commits the batch-etl group's Kafka offsets through the ranges of successful ETL runs.",
    )
    def batch_etl_commit_sensor(context: dg.SensorEvaluationContext, kafka: KafkaResource) -> dg.SkipReason:
        try:
            committed = kafka.etl_committed()
            moved = advance_commits(
                committed, succeeded_ranges(context.instance, kafka_batch_etl.name, BATCH_OP)
            )
            kafka.commit_etl(moved)
        except Exception as exc:  # noqa: BLE001 - the next tick tries again; nothing is lost meanwhile
            return dg.SkipReason(f"could not commit to Kafka at {kafka.bootstrap_servers}: {exc}")
        if not moved:
            return dg.SkipReason("nothing new to commit")
        shown = sorted(f"{t}/{p}={o}" for (t, p), o in moved.items())
        context.log.info(f"committed {len(moved)} partition(s) of group {kafka.etl_group}")
        return dg.SkipReason(f"committed {len(moved)} partition(s): {', '.join(shown[:20])}")

    return batch_etl_commit_sensor
