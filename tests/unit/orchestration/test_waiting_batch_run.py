"""waiting_batch_run: which kafka_batch_etl run keeps kafka_offsets_sensor from asking for another.

A run waits while it is queued or starting, and after it started until its step holds the
`lake` pool (one run is launched ahead to wait there); it no longer waits once it writes its
batch or checks what it wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, StepMaterializationData

from keys import BATCH_OP, BRONZE_EVENTS, LAKE_POOL, VALIDATED_EVENTS
from sensors.kafka_offsets import waiting_batch_run

JOB = "kafka_batch_etl"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots(LAKE_POOL, 1)
        yield instance


def add_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, job: str = JOB) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name=job, run_id=run_id, status=status))
    return run_id


def materialize(instance: dg.DagsterInstance, run_id: str, key: dg.AssetKey) -> None:
    event = DagsterEvent(
        event_type_value=dg.DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name=JOB,
        event_specific_data=StepMaterializationData(dg.AssetMaterialization(key)),
    )
    instance.report_dagster_event(event, run_id=run_id)


# (a QUEUED run needs a code location's origin to be stored; it is filtered with these two)
@pytest.mark.parametrize("status", [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING])
def test_a_run_not_started_yet_waits(instance, status):
    run_id = add_run(instance, status)
    assert waiting_batch_run(instance) == run_id[:8]


def test_a_started_run_waits_until_it_holds_the_lake_pool(instance):
    run_id = add_run(instance, dg.DagsterRunStatus.STARTED)
    assert waiting_batch_run(instance) == run_id[:8], "started, not yet at the pool"

    claim = instance.event_log_storage.claim_concurrency_slot(LAKE_POOL, run_id, BATCH_OP)
    assert claim.is_claimed
    assert waiting_batch_run(instance) is None, "writing its batch"


def test_a_started_run_behind_another_writer_waits(instance):
    writer, behind = (add_run(instance, dg.DagsterRunStatus.STARTED) for _ in range(2))
    assert instance.event_log_storage.claim_concurrency_slot(LAKE_POOL, writer, BATCH_OP).is_claimed
    assert not instance.event_log_storage.claim_concurrency_slot(LAKE_POOL, behind, BATCH_OP).is_claimed
    assert waiting_batch_run(instance) == behind[:8]


def test_a_run_checking_its_written_batch_does_not_wait(instance):
    run_id = add_run(instance, dg.DagsterRunStatus.STARTED)
    materialize(instance, run_id, BRONZE_EVENTS)
    assert waiting_batch_run(instance) == run_id[:8], "bronze alone: the step still writes"
    materialize(instance, run_id, VALIDATED_EVENTS)
    assert waiting_batch_run(instance) is None


def test_ended_runs_and_other_jobs_do_not_wait(instance):
    add_run(instance, dg.DagsterRunStatus.SUCCESS)
    add_run(instance, dg.DagsterRunStatus.FAILURE)
    add_run(instance, dg.DagsterRunStatus.NOT_STARTED, job="daily_metrics_job")
    add_run(instance, dg.DagsterRunStatus.STARTED, job="daily_metrics_job")
    assert waiting_batch_run(instance) is None
