"""A run's Spark Connect session outlives its server: killed under a query, the server is started
again and the next query answers, round after round, in one process (the in-process executor
retries a step in the process that lost the server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.spark_server import SparkConnectServer, SparkServerSpec
from tests.support.connect_child import ROWS

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(600)]

ROUNDS = 3


@pytest.fixture
def spark_server(stack_settings: Settings) -> Iterator[SparkConnectServer]:
    server = SparkConnectServer(SparkServerSpec.of(stack_settings))
    server.ensure_running()
    server.start_if_down()  # as `stack up` does: the stack wants it, so a run may start it again
    yield server
    server.stop()


def test_a_session_whose_server_is_killed_under_a_query_gets_answers_from_the_restarted_one(
    spark_server: SparkConnectServer, stack_settings: Settings
):
    child = subprocess.run(
        [sys.executable, "-m", "tests.support.connect_child", "--rounds", str(ROUNDS)],
        env={**os.environ, **stack_settings.as_environment()},
        capture_output=True,
        check=False,
        text=True,
        timeout=480,  # a deadlocked client never returns: this turns it into a failure
    )
    rounds = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    assert len(rounds) == ROUNDS, child.stderr[-3000:]
    assert all(r["lost"] and r["count"] == ROWS for r in rounds), rounds
    assert all(r["streams_left"] == 0 for r in rounds), f"the lost session's streams were finalized: {rounds}"
    assert child.returncode == 0, child.stderr[-3000:]
    assert spark_server.healthy()
