"""kafka_offsets_sensor against the real broker: observations when offsets move, skips when not."""

from __future__ import annotations

import json
import uuid

import dagster as dg

from assets.streams import RAW_EVENTS
from orchestration.resources import KafkaResource
from sensors.kafka_offsets import kafka_offsets_sensor


def send(api, project, count: int) -> None:
    events = [{"eventId": uuid.uuid4().hex, "eventType": "page_view", "userId": "u"} for _ in range(count)]
    response = api.post("/v1/batch", json={"events": events}, headers=project.auth)
    assert len(response.json()["accepted"]) == count


def tick(kafka: KafkaResource, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(cursor=cursor, resources={"kafka": kafka}) as context:
        return kafka_offsets_sensor(context)


def test_observes_new_events_then_skips_until_more_arrive(api, project, stack_settings):
    kafka = KafkaResource(bootstrap_servers=stack_settings.kafka_bootstrap_servers)
    topic = f"events.{project.project_id}"
    send(api, project, 25)

    first = tick(kafka, None)
    (observation,) = first.asset_events
    assert observation.asset_key == RAW_EVENTS
    assert observation.metadata["new_events_by_topic"].data[topic] == 25
    assert json.loads(first.cursor)[topic] == 25
    assert "events.processed." + project.project_id not in json.loads(first.cursor), "raw topics only"

    quiet = tick(kafka, first.cursor)
    assert quiet.asset_events == []
    assert "no new events" in quiet.skip_reason.skip_message

    send(api, project, 7)
    later = tick(kafka, first.cursor)
    assert later.asset_events[0].metadata["new_events_by_topic"].data == {topic: 7}


def test_an_unreachable_cluster_is_a_skip_that_says_so():
    result = tick(KafkaResource(bootstrap_servers="127.0.0.1:1"), None)
    assert "Kafka unreachable" in result.skip_reason.skip_message
