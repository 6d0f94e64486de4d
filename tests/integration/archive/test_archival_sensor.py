"""archival_sensor and the archive job through Dagster, on a broker and an S3 server of their own
(the sensor plans over every raw topic, so a private broker keeps the counts exact)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import pytest

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.objectstore.client import s3_client
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.timeutil import utc_now
from orchestration.definitions import build_definitions
from resources.kafka import KafkaResource
from sensors.archival import RETRY_OF_TAG
from tests.support.archival import archived_records, kafka_records, new_raw_topic, topic_ends, write_records
from tests.support.stack import with_new_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def private_stack(stack_settings: Settings) -> Iterator[tuple[Settings, S3Server]]:
    settings = with_new_ports(stack_settings, "kafka", "s3").model_copy(
        update={"archive_batch_size": 1, "archive_max_records_per_run": 300}
    )
    broker, s3 = KafkaBroker(settings), S3Server(settings)
    broker.ensure_running()
    s3.ensure_running()
    yield settings, s3
    s3.stop()
    broker.stop()


class Archival:
    """The code location's Definitions, one ephemeral instance, and a group of the test's own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.model_copy(update={"archive_group": f"archival-{uuid.uuid4().hex[:8]}"})
        self.defs = build_definitions(self.settings)
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: str | None = None
        self.kafka = KafkaResource(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, archive_group=self.settings.archive_group
        )

    def tick(self) -> list[dg.RunRequest]:
        sensor = self.defs.resolve_sensor_def("archival_sensor")
        resources = {k: v for k, v in self.defs.resources.items() if k in {"kafka", "archive_policy"}}
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=resources
        ) as context:
            result = sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def run(self, request: dg.RunRequest) -> bool:
        job = self.defs.resolve_job_def("archive_events")
        result = job.execute_in_process(
            run_config=request.run_config, instance=self.instance, tags=request.tags, raise_on_error=False
        )
        return result.success

    def committed(self, project: str | None = None) -> dict[tuple[str, int], int]:
        """The group's commits (of one project's raw topic, when given)."""
        committed = self.kafka.committed(self.settings.archive_group)
        return {tp: o for tp, o in committed.items() if project is None or tp[0] == raw_topic(project)}

    def check(self) -> dg.AssetCheckEvaluation:
        job = self.defs.resolve_job_def("archive_lag_check")
        result = job.execute_in_process(instance=self.instance)
        (evaluation,) = result.get_asset_check_evaluations()
        return evaluation


def test_archive_runs_commit_only_after_success_and_retry_while_s3_is_down(
    private_stack: tuple[Settings, S3Server],
) -> None:
    settings, s3 = private_stack
    project = new_raw_topic(settings)
    write_records(settings, project, 600)  # 200 per partition
    archival = Archival(settings)
    store = ArchiveStore(s3_client(s3.endpoint), settings.archive_bucket)
    p0, p1, p2 = sorted(topic_ends(settings, project))

    first = archival.tick()
    assert len(first) == 2, "600 pending records in runs of at most 300"
    s3.stop()
    try:
        assert not any(archival.run(request) for request in first)  # S3 down: every run fails
        write_records(settings, project, 30)  # Kafka keeps taking records meanwhile
        retries = archival.tick()
        assert archival.committed(project) == {}, "nothing is committed for a failed run"
        assert all(RETRY_OF_TAG in r.tags for r in retries), "nothing new is planned while ranges wait"
        assert [r.run_config for r in retries] == [r.run_config for r in first], "in offset order"
        assert archival.tick() == [], "each failed run is retried once per failure"
    finally:
        s3.ensure_running()

    # the later retry first: a range commits only after every range before it on its partition
    earliest, latest = retries
    assert archival.run(latest)  # partition 1 from 100, all of partition 2
    assert archival.tick() == []
    assert archival.committed(project) == {p2: 200}, "partition 1 waits for its first 100"
    assert archival.run(earliest)  # partition 0, partition 1 up to 100
    backlog = archival.tick()  # commits the 600, then plans the 30 written during the outage
    assert archival.committed(project) == {p0: 200, p1: 200, p2: 200}
    assert sum(int(r.tags["analytics/records"]) for r in backlog) == 30
    for request in backlog:
        assert archival.run(request)
    assert archival.tick() == []
    ends = topic_ends(settings, project)
    assert archival.committed(project) == ends
    assert sum(ends.values()) == 630
    records = archived_records(store, project)
    assert len(records) == 630
    assert records == kafka_records(settings, project)


def test_archive_keeps_up_fails_while_an_old_record_is_unarchived(
    private_stack: tuple[Settings, S3Server],
) -> None:
    settings, _s3 = private_stack
    archival = Archival(settings)
    project = new_raw_topic(settings)
    two_days_ago = int((utc_now() - timedelta(days=2)).timestamp() * 1000)
    write_records(settings, project, 20, timestamp_ms=two_days_ago)

    failing = archival.check()
    assert not failing.passed
    assert failing.metadata["oldest_unarchived_age_s"].value > 86_400
    assert failing.metadata["unarchived_records"].value >= 20

    for request in archival.tick():
        assert archival.run(request)
    archival.tick()  # commits

    passing = archival.check()
    assert passing.passed, passing.metadata
    assert passing.metadata["unarchived_records"].value == 0
