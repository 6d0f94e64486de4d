"""hot_partition_sensor against the session's Kafka: a skewed load into a project's raw topic, a
group whose commits leave one partition behind, ticks on a clock the test moves (5 s sustain)."""

from __future__ import annotations

import uuid
from typing import Any

import dagster as dg
import pytest

from analytics_pipeline.kafka_io.admin import commit_group_offsets, topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.loadgen.skew import event_ids_on_partition
from analytics_pipeline.settings import Settings
from resources.kafka import HotPartitionResource, KafkaResource
from sensors.hot_partitions import build_hot_partition_sensor
from tests.support.clock import Clock
from tests.support.projects import ProjectUnderTest
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration

HOT, SUSTAIN_S, SAMPLE = 1, 5.0, 300


def send(settings: Settings, project_id: str, partition: int, kinds_and_users: list[tuple[str, str]]) -> None:
    """Events keyed (as the ingestion service keys them) to land on ``partition``."""
    partitions = settings.kafka_topic_partitions or 1
    ids = event_ids_on_partition(partition, partitions, len(kinds_and_users))
    events = [
        {"eventId": event_id, "eventType": kind, "userId": user}
        for event_id, (kind, user) in zip(ids, kinds_and_users, strict=True)
    ]
    with RawWriter(settings.kafka_bootstrap_servers) as writer:
        writer.events(project_id, events)


def mine(result: dg.SensorResult, check: str, topic: str) -> tuple[bool, list[dict[str, Any]]] | None:
    """The check's evaluation in this tick, if any: passed for this topic, and its entries there."""
    for evaluation in result.asset_events:
        if evaluation.check_name == check:
            entries = [e for e in evaluation.metadata["partitions"].value if e["topic"] == topic]
            return not entries, entries
    return None


def test_a_skewed_load_warns_at_once_a_lagging_partition_after_the_sustain_time_and_both_clear(
    project: ProjectUnderTest, stack_settings: Settings
) -> None:
    bootstrap, topic = stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id)
    group = f"hot-{uuid.uuid4().hex[:8]}"
    resource = HotPartitionResource(
        kafka=KafkaResource(bootstrap_servers=bootstrap),
        groups=[group],
        factor=2.0,
        sustain_s=SUSTAIN_S,
        min_records=1_000,
        sample_records=SAMPLE,
    )
    clock = Clock(1_000_000.0)
    sensor = build_hot_partition_sensor(30, clock=clock)

    def tick(cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(cursor=cursor, resources={"hot_partitions": resource}) as context:
            return sensor(context)

    # partition 1: 900 page views of many users, then the newest 300: 3 of 4 from one user's checkout
    newest = [("checkout", "u-hot") if n % 4 else ("add_to_cart", "u-2") for n in range(SAMPLE)]
    send(stack_settings, project.project_id, HOT, [("page_view", f"u-{n}") for n in range(900)] + newest)
    for cold in (0, 2):
        send(stack_settings, project.project_id, cold, [("page_view", "u-cold")] * 100)
    ends = {o.partition: o.latest for o in topic_offsets(bootstrap, topic)}
    assert ends == {0: 100, 1: 1_200, 2: 100}, "the ids landed where the partitioner puts them"
    commit_group_offsets(bootstrap, group, {(topic, 0): 100, (topic, HOT): 0, (topic, 2): 100})

    first = tick(None)
    passed, skewed = mine(first, "produce_skew", topic)
    assert not passed
    assert [(e["partition"], e["share_of_topic_traffic"]) for e in skewed] == [(HOT, round(1_200 / 1_400, 4))]
    assert mine(first, "hot_partitions", topic) == (True, []), "lag not hot for 5 s yet"

    clock.now += SUSTAIN_S
    due = tick(first.cursor)
    passed, [entry] = mine(due, "hot_partitions", topic)
    assert not passed
    assert {k: entry[k] for k in ("partition", "group", "lag", "topic_average_lag", "hot_for_s")} == {
        "partition": HOT,
        "group": group,
        "lag": 1_200,
        "topic_average_lag": 400.0,
        "hot_for_s": SUSTAIN_S,
    }
    assert entry["share_of_topic_traffic"] == round(1_200 / 1_400, 4)
    assert entry["sampled_records"] == SAMPLE
    assert entry["top_event_types"] == {"checkout": 225, "add_to_cart": 75}
    assert entry["top_user_ids"] == {"u-hot": 225, "u-2": 75}

    commit_group_offsets(bootstrap, group, {(topic, HOT): 1_200})
    clock.now += 30
    caught_up = tick(due.cursor)
    assert mine(caught_up, "hot_partitions", topic) == (True, []), "the lag went away: cleared"
    still = mine(caught_up, "produce_skew", topic)  # reported again only if another topic changed
    assert still is None or [e["partition"] for e in still[1]] == [HOT], "still skewed"

    for cold in (0, 2):
        send(stack_settings, project.project_id, cold, [("page_view", "u-cold")] * 1_100)
    commit_group_offsets(bootstrap, group, {(topic, 0): 1_200, (topic, 2): 1_200})
    clock.now += 30
    even = tick(caught_up.cursor)
    assert mine(even, "produce_skew", topic) == (True, []), "the topic's traffic is even again"
