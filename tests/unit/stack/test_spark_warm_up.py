"""The warm-up `stack up` runs on a Spark server it started: a failure is a line saying so and
where its log is, never a failed `stack up`. (A warm-up that succeeds: tests/integration/stack.)"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from analytics_pipeline.stack import spark_warm_up
from analytics_pipeline.stack.spark_server import SparkConnectServer, SparkServerSpec
from analytics_pipeline.stack.spark_warm_up import SparkWarmUp

pytestmark = pytest.mark.usefixtures("clean_analytics_env")


def test_a_warm_up_that_fails_says_so_and_leaves_its_log(tmp_path: Path) -> None:
    spec = SparkServerSpec(
        url="not a spark url", master="local[2]", memory="1g", jar_root=tmp_path, home=tmp_path
    )
    warm_up = SparkWarmUp(SparkConnectServer(spec)).start()

    line = warm_up.outcome()

    assert line.startswith("spark-connect: the warm-up failed (exit 1;"), line
    assert str(warm_up.log_file) in line
    assert "INVALID_CONNECT_URL" in warm_up.log_file.read_text(), "the log holds why"
    assert not warm_up.scratch.exists()


def test_an_outcome_needs_a_started_warm_up(tmp_path: Path) -> None:
    spec = SparkServerSpec(
        url="sc://127.0.0.1:15999", master="local[2]", memory="1g", jar_root=tmp_path, home=tmp_path
    )
    with pytest.raises(RuntimeError, match="not started"):
        SparkWarmUp(SparkConnectServer(spec)).outcome()


@pytest.mark.parametrize(
    ("master", "warmed"),
    [("local", True), ("local[2]", True), ("local[*]", True), ("spark://10.0.0.5:7077", False)],
)
def test_only_a_server_on_a_local_master_is_warmed(tmp_path: Path, master: str, warmed: bool) -> None:
    """A cluster's executors would write the scratch lake to disks of their own."""
    spec = SparkServerSpec(
        url="sc://127.0.0.1:15999", master=master, memory="1g", jar_root=tmp_path, home=tmp_path
    )
    assert SparkWarmUp.applies_to(SparkConnectServer(spec)) is warmed


def test_a_warm_up_that_hangs_is_stopped_at_its_time_limit(tmp_path: Path, monkeypatch) -> None:
    """A server that accepts connections and never answers: the warm-up is killed, not waited for."""
    monkeypatch.setattr(spark_warm_up, "TIMEOUT_S", 5.0)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"sc://127.0.0.1:{silent.getsockname()[1]}"
        spec = SparkServerSpec(url=url, master="local[2]", memory="1g", jar_root=tmp_path, home=tmp_path)
        warm_up = SparkWarmUp(SparkConnectServer(spec)).start()

        line = warm_up.outcome()

    assert line == f"spark-connect: the warm-up ran over 5 s, stopped (log {warm_up.log_file})"
    assert not warm_up.running, "killed"
    assert not warm_up.scratch.exists()
