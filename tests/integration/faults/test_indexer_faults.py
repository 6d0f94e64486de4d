"""The metadata indexer against a PostgreSQL that goes away, and a SIGKILL of its own: it pauses,
catches up, and every record ends up indexed exactly once."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.stack.metadata_indexer import MetadataIndexerProcess
from analytics_pipeline.stack.ports import free_port
from analytics_pipeline.stack.postgres_server import PostgresServer
from tests.support.consumer_group import start_group_at_end, wait_caught_up
from tests.support.events import new_event
from tests.support.raw_events import RawWriter
from tests.support.stack import with_new_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def postgres(stack_home: Path) -> Iterator[PostgresServer]:
    data_dir = Path(tempfile.mkdtemp(prefix="analytics-pg-index-"))
    data_dir.chmod(0o755)  # the postgres user must reach it
    server = PostgresServer(stack_home, data_dir / "data", free_port())
    server.ensure_running()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def indexed(url: str, project_id: str) -> tuple[int, int]:
    """(rows, distinct eventIds) the index holds for the project; (-1, -1) while it is down."""
    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 1})
    query = "select count(*), count(distinct event_id) from event_index where project_id = :p"
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sqlalchemy.text(query), {"p": project_id}).one())
    except sqlalchemy.exc.SQLAlchemyError:
        return (-1, -1)
    finally:
        engine.dispose()


def wait_for(check, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def metric(indexer: MetadataIndexerProcess, name: str) -> float:
    text = httpx.get(f"http://{indexer.host}:{indexer.port}/metrics", timeout=5).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def test_postgres_down_pauses_the_indexer_and_a_killed_one_resumes_and_nothing_is_lost_or_doubled(
    stack_settings, kafka_broker, make_project, postgres
):
    settings = with_new_ports(stack_settings, "index").model_copy(
        update={"metadata_url": postgres.url, "index_group": f"index-{uuid.uuid4().hex[:8]}"}
    )
    # A new group would first index the whole session's history of every project.
    start_group_at_end(settings.kafka_bootstrap_servers, settings.index_group)
    indexer = MetadataIndexerProcess(settings)
    indexer.ensure_running()
    project = make_project("idx").project_id
    writer = RawWriter(stack_settings.kafka_bootstrap_servers)
    try:
        writer.events(project, [new_event() for _ in range(200)])
        wait_for(lambda: indexed(postgres.url, project) == (200, 200))

        postgres.stop()
        writer.events(project, [new_event() for _ in range(300)])
        wait_for(lambda: metric(indexer, "analytics_index_paused") == 1.0)
        assert metric(indexer, "analytics_index_write_failures_total") >= 1

        postgres.ensure_running()
        wait_for(lambda: indexed(postgres.url, project) == (500, 500), timeout_s=90)
        assert metric(indexer, "analytics_index_paused") == 0.0

        indexer.process.kill()  # SIGKILL, maybe mid-batch
        writer.events(project, [new_event() for _ in range(100)])
        indexer.ensure_running()
        wait_for(lambda: indexed(postgres.url, project) == (600, 600), timeout_s=90)
        wait_caught_up(stack_settings.kafka_bootstrap_servers, settings.index_group, raw_topic(project))
    finally:
        writer.close()
        indexer.stop()
