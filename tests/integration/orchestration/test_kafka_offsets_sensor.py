"""kafka_offsets_sensor against the real broker: the ranges it requests, its cursor, no repeats."""

from __future__ import annotations

import json
import time
import uuid

import dagster as dg
import pytest

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.offset_ranges import ranges_from_config, run_key
from keys import BATCH_OP, RAW_EVENTS
from resources.kafka import KafkaResource
from resources.policies import BatchPolicyResource
from sensors.kafka_offsets import build_kafka_offsets_sensor
from tests.support.events import new_event
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration

SENSOR = build_kafka_offsets_sensor(interval_s=30)


def kafka_for(settings) -> KafkaResource:
    return KafkaResource(
        bootstrap_servers=settings.kafka_bootstrap_servers, etl_group=f"etl-{uuid.uuid4().hex[:8]}"
    )


def policy(batch_size: int = 1, max_wait_s: float = 0) -> BatchPolicyResource:
    return BatchPolicyResource(batch_size=batch_size, max_wait_s=max_wait_s, max_records_per_run=10**9)


def tick(
    kafka: KafkaResource,
    batch_policy: BatchPolicyResource,
    cursor: str | None,
    instance: dg.DagsterInstance | None = None,
) -> dg.SensorResult:
    with dg.build_sensor_context(
        cursor=cursor,
        resources={"kafka": kafka, "batch_policy": batch_policy},
        instance=instance or dg.DagsterInstance.ephemeral(),
    ) as context:
        return SENSOR(context)


def my_ranges(result: dg.SensorResult, topic: str):
    found = []
    for request in result.run_requests or []:
        ranges = ranges_from_config(request.run_config["ops"][BATCH_OP]["config"]["ranges"])
        assert request.run_key == run_key(ranges), "the run key names exactly the ranges of the run"
        found += [r for r in ranges if r.topic == topic]
    return found


def write(settings, project_id: str, count: int) -> None:
    with RawWriter(settings.kafka_bootstrap_servers) as writer:
        writer.events(project_id, [new_event() for _ in range(count)])


def test_each_new_range_is_requested_once_with_its_exact_offsets(project, stack_settings):
    kafka, topic = kafka_for(stack_settings), raw_topic(project.project_id)
    write(stack_settings, project.project_id, 30)

    first = tick(kafka, policy(), None)

    ranges = my_ranges(first, topic)
    assert sum(r.count for r in ranges) == 30
    assert all(r.start == 0 for r in ranges)
    (observation,) = first.asset_events
    assert observation.asset_key == RAW_EVENTS
    assert sum(observation.metadata["end_offsets"].data[topic].values()) == 30
    assert observation.metadata["batch_etl_lag_by_topic"].data[topic] == 30, "nothing committed yet"

    quiet = tick(kafka, policy(), first.cursor)
    assert my_ranges(quiet, topic) == []
    assert quiet.asset_events == [], "offsets did not move: nothing to observe"

    write(stack_settings, project.project_id, 12)
    later = tick(kafka, policy(), quiet.cursor)
    new = my_ranges(later, topic)
    assert sum(r.count for r in new) == 12
    ends = {(r.topic, r.partition): r.end for r in ranges}
    assert all(r.start == ends.get((r.topic, r.partition), 0) for r in new), (
        "each range starts where the last ended"
    )


def test_a_small_batch_waits_for_the_max_wait(project, stack_settings):
    kafka, topic = kafka_for(stack_settings), raw_topic(project.project_id)
    write(stack_settings, project.project_id, 5)
    patient = policy(batch_size=10**9, max_wait_s=2)

    first = tick(kafka, patient, None)
    assert my_ranges(first, topic) == []
    assert "waiting" in first.skip_reason.skip_message
    time.sleep(2.1)
    second = tick(kafka, patient, first.cursor)

    assert sum(r.count for r in my_ranges(second, topic)) == 5
    assert json.loads(json.loads(second.cursor)["planner"])["pending_since"] is None


def test_an_unreachable_cluster_is_a_skip_that_says_so():
    result = tick(KafkaResource(bootstrap_servers="127.0.0.1:1", timeout_s=2), policy(), None)
    assert "Kafka unreachable" in result.skip_reason.skip_message


def test_while_a_batch_run_waits_for_the_lake_the_next_takes_everything_pending(project, stack_settings):
    """Runs that last longer than the sensor's cycle must not pile up in the queue."""
    kafka, topic = kafka_for(stack_settings), raw_topic(project.project_id)
    write(stack_settings, project.project_id, 20)
    with dg.instance_for_test() as instance:
        # created, not started: what a run waiting in the queue for the `lake` pool also is
        run_id, waiting_status = str(uuid.uuid4()), dg.DagsterRunStatus.NOT_STARTED
        queued = dg.DagsterRun(job_name="kafka_batch_etl", run_id=run_id, status=waiting_status)
        instance.add_run(queued)
        waiting = tick(kafka, policy(), None, instance)
        assert my_ranges(waiting, topic) == []
        assert "waits for the lake" in waiting.skip_reason.skip_message
        write(stack_settings, project.project_id, 7)

        instance.delete_run(queued.run_id)  # it started (and ended)
        free = tick(kafka, policy(), waiting.cursor, instance)
    ranges = my_ranges(free, topic)
    assert sum(r.count for r in ranges) == 27, "one run for everything pending"
    assert all(r.start == 0 for r in ranges)
