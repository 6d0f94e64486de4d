"""The contract check over real topics: passes on what the API wrote (alone on a broker of its
own), fails on a stray record."""

from __future__ import annotations

import uuid

import httpx
from kafka import KafkaProducer

from analytics_pipeline.provisioning import provision_project
from jobs.quality import raw_events_quality_job
from orchestration.definitions import defs
from resources.kafka import KafkaResource


def run_check(bootstrap: str):
    definitions = defs()
    job = definitions.get_repository_def().get_job(raw_events_quality_job.name)
    result = job.execute_in_process(resources={"kafka": KafkaResource(bootstrap_servers=bootstrap)})
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_contract_check_passes_on_what_the_api_wrote(own_kafka, start_ingest, metadata_store):
    project_id = f"clean-{uuid.uuid4().hex[:8]}"
    created = provision_project(own_kafka.settings, metadata_store, project_id, project_id)
    assert created.topics_error is None, created.topics_error
    server = start_ingest(kafka_bootstrap_servers=own_kafka.settings.kafka_bootstrap_servers)
    events = [{"eventId": uuid.uuid4().hex, "eventType": "page_view", "userId": "u"} for _ in range(10)]
    answer = httpx.post(
        f"{server.url}/v1/batch",
        json={"events": events},
        headers={"Authorization": f"Bearer {created.api_key}"},
        timeout=30,
    )
    assert len(answer.json()["accepted"]) == 10, answer.text

    clean = run_check(own_kafka.settings.kafka_bootstrap_servers)
    assert clean.passed, clean.metadata
    assert clean.metadata["topics"].value == 1, "the project's raw topic, alone on this broker"
    assert clean.metadata["records_checked"].value == 10
    assert clean.metadata["records_violating"].value == 0
    assert clean.metadata["violating_by_topic"].value == {}


def test_contract_check_catches_a_record_written_around_the_api(api, project, stack_settings):
    events = [{"eventId": uuid.uuid4().hex, "eventType": "page_view", "userId": "u"} for _ in range(10)]
    assert len(api.post("/v1/batch", json={"events": events}, headers=project.auth).json()["accepted"]) == 10
    bootstrap = stack_settings.kafka_bootstrap_servers

    topic = f"events.{project.project_id}"

    # The session cluster is shared with tests that write bad records on purpose, so this test
    # judges its own topic through the per-topic counts (the clean case above has a broker alone).
    clean = run_check(bootstrap)
    assert topic not in clean.metadata["violating_by_topic"].value, clean.metadata

    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(topic, key=b"k", value=b'{"eventId": "other"}').get(10)
    producer.close()

    dirty = run_check(bootstrap)
    assert not dirty.passed
    assert dirty.metadata["violating_by_topic"].value[topic] == 1
    assert dirty.metadata["records_violating"].value == clean.metadata["records_violating"].value + 1
