"""A 3-node KRaft cluster shared by the session's cluster tests, and per module the services that
run on it: Redis, the ingestion API and a streaming worker. Tests may SIGKILL nodes
(``cluster.node(i).process.kill()``) and must leave every node running and in sync when they end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer
from analytics_pipeline.stack.kafka_broker import KafkaCluster
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess
from tests.support.stack import isolated_settings, running


@pytest.fixture(scope="session")
def cluster_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The design's 5 s produce timeout: the failover figures are those a client would see. The
    # producer keeps a record 15 s (not 30): longer than one node's failover, shorter than two
    # nodes down and restarted, so that test also covers records the producer gave up on.
    return isolated_settings(
        tmp_path_factory.mktemp("cluster"),
        kafka_brokers=3,
        kafka_produce_timeout_s=5.0,
        kafka_delivery_timeout_s=15.0,
    )


@pytest.fixture(scope="session")
def cluster(cluster_settings: Settings) -> Iterator[KafkaCluster]:
    yield from running(KafkaCluster(cluster_settings))


@pytest.fixture(scope="module")
def cluster_redis(cluster_settings: Settings) -> Iterator[RedisServer]:
    yield from running(RedisServer(cluster_settings))


@pytest.fixture(scope="module")
def cluster_ingest(
    cluster_settings: Settings, cluster: KafkaCluster, cluster_redis
) -> Iterator[IngestServer]:
    yield from running(IngestServer(cluster_settings))


@pytest.fixture(scope="module")
def cluster_worker(
    cluster_settings: Settings, cluster: KafkaCluster, cluster_redis
) -> Iterator[StreamWorkerProcess]:
    yield from running(StreamWorkerProcess(cluster_settings))


@pytest.fixture(scope="module")
def cluster_store(cluster_settings: Settings) -> Iterator[MetadataStore]:
    store = MetadataStore(cluster_settings.metadata_database_url)
    yield store
    store.close()
