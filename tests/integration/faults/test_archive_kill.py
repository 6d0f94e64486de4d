"""An archive run SIGKILLed in the middle of an upload, then run again over the same ranges:
every record archived exactly once, in one object per range, and no offset missing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from analytics_pipeline.archive.archiver import archive_ranges, range_key
from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.archive.parquet_object import project_prefix
from analytics_pipeline.lakehouse.offset_ranges import ranges_to_config
from analytics_pipeline.objectstore.client import s3_client
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.s3_server import S3Server
from analytics_pipeline.stack.services import REPO_ROOT
from tests.support.archival import (
    archived_records,
    covering_ranges,
    kafka_records,
    new_raw_topic,
    write_records,
)
from tests.support.cut_upload_proxy import CutUploadProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RECORDS = 3_000
CUT_PUT = 4  # three objects are whole when the fourth upload is cut


def test_a_run_killed_mid_upload_and_rerun_archives_every_record_once(
    stack_settings: Settings, kafka_broker: KafkaBroker, s3_server: S3Server
) -> None:
    project = new_raw_topic(stack_settings)
    write_records(stack_settings, project, RECORDS)
    ranges = covering_ranges(stack_settings, project, per_range=400)
    assert len(ranges) > CUT_PUT
    proxy = CutUploadProxy(s3_server.endpoint.host_port, cut_put=CUT_PUT)
    settings = stack_settings.model_copy(
        update={"s3_endpoint_url": proxy.url, "archive_bucket": "archive-kill-test"}
    )
    env = {**os.environ, **settings.as_environment(), "PYTHONPATH": str(REPO_ROOT)}
    # the proxy's loopback URL would pick the local key anyway; pin the server's own
    env["ANALYTICS_S3_ACCESS_KEY_ID"] = s3_server.endpoint.access_key or ""
    env["ANALYTICS_S3_SECRET_ACCESS_KEY"] = s3_server.endpoint.secret_key or ""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.archive_child",
            "--ranges",
            json.dumps(ranges_to_config(ranges)),
        ],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        assert proxy.cut.wait(120), f"the run never reached upload {CUT_PUT} (exit {child.poll()})"
        os.killpg(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        proxy.close()

    store = ArchiveStore(s3_client(s3_server.endpoint), settings.archive_bucket)
    keys = [range_key(r) for r in sorted(ranges)]
    held = sorted(ranges)[CUT_PUT - 1]
    done_before = [obj.key for obj in store.objects(project_prefix(project)) if store.whole(obj.key)]
    assert len(done_before) == CUT_PUT - 1, "the objects uploaded before the kill are whole"
    assert range_key(held) not in done_before, "the cut upload left no whole object"

    report = archive_ranges(stack_settings.kafka_bootstrap_servers, store, ranges)

    assert sorted(report.present) == sorted(done_before), "the rerun keeps what was whole"
    assert len(report.written) == len(ranges) - len(done_before)
    assert [obj.key for obj in store.objects(project_prefix(project))] == sorted(keys), "one object per range"
    records = archived_records(store, project)
    assert len(records) == RECORDS
    assert records == kafka_records(stack_settings, project), "no offset missing, none doubled"
