"""Session fixtures: one real Kafka broker, one Redis and one ingestion API for the whole run;
a fresh project (own topics, own keys, own dedup namespace) for every test."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from pyspark.sql import SparkSession

from analytics_pipeline.lakehouse.spark import spark_session
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.provisioning import provision_project
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer, QueryServer
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.metadata_indexer import MetadataIndexerProcess
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.stack.postgres_server import PostgresServer
from analytics_pipeline.stack.redis_server import RedisServer
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.stack.stream_worker import StreamWorkerProcess
from tests.support.consumer_group import start_group_at_end
from tests.support.projects import ProjectUnderTest
from tests.support.stack import isolated_settings, running, with_new_ports


@pytest.fixture(scope="session")
def stack_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def stack_settings(stack_home: Path) -> Settings:
    return isolated_settings(stack_home)


@pytest.fixture(scope="session")
def redis_server(stack_settings: Settings) -> Iterator[RedisServer]:
    yield from running(RedisServer(stack_settings))


@pytest.fixture(scope="session")
def kafka_broker(stack_settings: Settings) -> Iterator[KafkaBroker]:
    yield from running(KafkaBroker(stack_settings))


@pytest.fixture(scope="session")
def s3_server(stack_settings: Settings) -> Iterator[S3Server]:
    """The session's S3 server (S3Proxy over a folder), as `make up` runs it."""
    yield from running(S3Server(stack_settings))


@pytest.fixture
def own_s3(stack_settings: Settings) -> Iterator[S3Server]:
    """An S3 server of the test's own, so stopping it disturbs no other test."""
    yield from running(S3Server(with_new_ports(stack_settings, "s3")))


@pytest.fixture(scope="session")
def ingest_server(
    stack_settings: Settings, redis_server: RedisServer, kafka_broker: KafkaBroker
) -> Iterator[IngestServer]:
    yield from running(IngestServer(stack_settings))


@pytest.fixture
def own_kafka(stack_settings: Settings) -> Iterator[KafkaBroker]:
    """A Kafka broker of the test's own: stopping it disturbs no other test, and it holds only
    the topics the test makes."""
    yield from running(KafkaBroker(with_new_ports(stack_settings, "kafka")))


@pytest.fixture
def own_redis(stack_settings: Settings) -> Iterator[RedisServer]:
    """A Redis of the test's own, so stopping it disturbs no other test."""
    yield from running(RedisServer(with_new_ports(stack_settings, "redis")))


@pytest.fixture(scope="session")
def stream_worker(
    stack_settings: Settings, redis_server: RedisServer, kafka_broker: KafkaBroker
) -> Iterator[StreamWorkerProcess]:
    """The session's streaming worker (group stream-processing over every test's raw topics).

    Tests may kill and restart it (``.process.kill()``, ``.ensure_running()``).
    """
    yield from running(StreamWorkerProcess(stack_settings))


@pytest.fixture(scope="session")
def metadata_indexer(stack_settings: Settings, kafka_broker: KafkaBroker) -> Iterator[MetadataIndexerProcess]:
    """The session's metadata indexer (group metadata-index into the session's metadata store)."""
    yield from running(MetadataIndexerProcess(stack_settings))


@pytest.fixture
def start_worker(stack_settings: Settings, redis_server: RedisServer, kafka_broker: KafkaBroker):
    """Factory: another streaming worker process, in a consumer group of its own by default; a
    group new to the test starts at the end of the raw topics there are (the test writes its
    events afterwards)."""
    started: list[StreamWorkerProcess] = []
    groups_at_end: set[str] = set()

    def start(**overrides) -> StreamWorkerProcess:
        settings = with_new_ports(stack_settings, "stream").model_copy(
            update={"stream_group": f"stream-{uuid.uuid4().hex[:8]}", **overrides}
        )
        # Once per group: a group with a member refuses a commit from outside it (UnknownMemberId).
        if settings.stream_group not in groups_at_end:
            start_group_at_end(settings.kafka_bootstrap_servers, settings.stream_group)
            groups_at_end.add(settings.stream_group)
        worker = StreamWorkerProcess(settings)
        worker.ensure_running()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def query_server(stack_settings: Settings, redis_server: RedisServer) -> Iterator[QueryServer]:
    yield from running(QueryServer(stack_settings))


@pytest.fixture
def query_api(query_server: QueryServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=query_server.url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
def metadata_store(stack_settings: Settings) -> Iterator[MetadataStore]:
    store = MetadataStore(stack_settings.metadata_database_url)
    yield store
    store.close()


@pytest.fixture
def make_project(stack_settings: Settings, metadata_store: MetadataStore, kafka_broker: KafkaBroker):
    """Factory: a new project with its topics and a key, named after the test."""

    def make(prefix: str = "t") -> ProjectUnderTest:
        project_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
        created = provision_project(stack_settings, metadata_store, project_id, project_id)
        assert created.topics_error is None, created.topics_error
        return ProjectUnderTest(created.project_id, created.api_key)

    return make


@pytest.fixture
def project(make_project) -> ProjectUnderTest:
    return make_project()


@pytest.fixture
def api(ingest_server: IngestServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ingest_server.url, timeout=30.0) as client:
        yield client


@pytest.fixture
def start_ingest(stack_settings: Settings, redis_server: RedisServer, kafka_broker: KafkaBroker):
    """Factory: another ingestion API process (own port and pid file) with some settings changed.

    It shares the session's metadata store, so projects made with ``make_project`` work there.
    One worker unless a test asks for more: these servers test behaviour, and the session's
    server (the default, one per CPU) and ``test_group_commit`` cover several workers.
    """
    started: list[IngestServer] = []

    def start(**overrides) -> IngestServer:
        settings = with_new_ports(stack_settings, "ingest").model_copy(
            update={"metadata_url": stack_settings.metadata_database_url, "ingest_workers": 1, **overrides}
        )
        server = IngestServer(settings)
        server.ensure_running()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(stack_home: Path) -> Iterator[str]:
    """Debian's PostgreSQL, started for this session (root: as the postgres user)."""
    data_dir = Path(tempfile.mkdtemp(prefix="analytics-pg-"))
    data_dir.chmod(0o755)  # the postgres user must reach it
    server = PostgresServer(stack_home, data_dir / "data", free_port())
    server.ensure_running()
    yield server.url
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """The metadata store on each supported database, in a fresh database or file."""
    if request.param == "sqlite":
        store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    else:
        base_url = request.getfixturevalue("postgres_url")
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = sqlalchemy.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        store = MetadataStore(base_url.rsplit("/", 1)[0] + f"/{name}")
    yield store
    store.close()


@pytest.fixture(scope="session")
def spark(stack_settings: Settings) -> Iterator[SparkSession]:
    """One Spark session with Delta for every lakehouse test (starting one costs seconds), with S3A
    for the session's S3 server: Spark takes jars only at start, and some lakes are on S3."""
    session = spark_session(stack_settings.model_copy(update={"spark_master": "local[2]"}), s3a=True)
    yield session
    session.stop()
