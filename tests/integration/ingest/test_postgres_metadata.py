"""The ingestion service with its metadata (keys, schemas) in PostgreSQL instead of SQLite."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from tests.support.kafka_reader import read_topic


def test_keys_and_schemas_from_postgresql(postgres_url, start_ingest, stack_settings):
    database = f"ingest_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + f"/{database}"
    store = MetadataStore(url)
    project = provision_project(stack_settings, store, f"pg-{uuid.uuid4().hex[:8]}")
    store.register_schema(project.project_id, "purchase", {"type": "object", "required": ["orderId"]})
    store.close()

    server = start_ingest(metadata_url=url)
    auth = {"Authorization": f"Bearer {project.api_key}"}
    good = {
        "eventId": f"e-{uuid.uuid4().hex}",
        "eventType": "purchase",
        "userId": "u",
        "properties": {"orderId": "o1"},
    }
    bad = {**good, "eventId": f"e-{uuid.uuid4().hex}", "properties": {}}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/v1/events", json=good, headers=auth).status_code == 202
        assert client.post("/v1/events", json=good, headers=auth).status_code == 409
        assert client.post("/v1/events", json=bad, headers=auth).status_code == 400
        assert (
            client.post("/v1/events", json=good, headers={"Authorization": "Bearer ak_x"}).status_code == 401
        )

    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    assert [s.key for s in stored] == [good["eventId"]]
