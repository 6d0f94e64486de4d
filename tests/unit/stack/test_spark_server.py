"""The Spark Connect server's command line and configuration, without starting it."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from analytics_pipeline.objectstore.endpoint import S3Endpoint
from analytics_pipeline.stack import spark_server
from analytics_pipeline.stack.services import StackError
from analytics_pipeline.stack.spark_server import SparkConnectServer, SparkServerSpec

pytestmark = pytest.mark.usefixtures("clean_analytics_env")


@pytest.fixture(autouse=True)
def no_jars(monkeypatch: pytest.MonkeyPatch) -> None:
    """No java is looked for and no jar fetched: only the server's own settings are written."""
    monkeypatch.setattr(spark_server, "java_in", lambda _home: "java")
    monkeypatch.setattr(
        spark_server, "lake_spark_conf", lambda memory, jars, s3=None: {"spark.driver.memory": memory}
    )


def spec(tmp_path: Path, master: str = "local[*]", **kwargs: Any) -> SparkServerSpec:
    return SparkServerSpec(
        url="sc://127.0.0.1:15999", master=master, memory="3g", jar_root=tmp_path, home=tmp_path, **kwargs
    )


def properties(server: SparkConnectServer) -> dict[str, str]:
    lines = server.properties_file.read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines)


def test_the_server_is_marked_by_its_port_and_runs_on_the_master(spawned, tmp_path: Path) -> None:
    server = SparkConnectServer(spec(tmp_path, master="spark://10.0.0.5:7077"))
    server.spawn()
    [call] = spawned
    argv = call["argv"]
    assert argv[0].endswith("bin/spark-submit")
    assert argv[argv.index("--master") + 1] == "spark://10.0.0.5:7077"
    assert argv[argv.index("--driver-memory") + 1] == "3g"
    assert argv[argv.index("--class") + 1] == spark_server.SERVER_CLASS
    assert call["marker"] == "spark.connect.grpc.binding.port=15999"
    assert call["marker"] in argv
    assert call["env"]["PYSPARK_PYTHON"] == sys.executable, "the UDFs import analytics_pipeline"
    conf = properties(server)
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert "spark.default.parallelism" not in conf, "a cluster's parallelism is its own"


@pytest.mark.parametrize(("master", "cores"), [("local[3]", "3"), ("local", "1"), ("local[4,2]", "4")])
def test_a_local_server_tells_runs_its_cores(spawned, tmp_path: Path, master: str, cores: str) -> None:
    server = SparkConnectServer(spec(tmp_path, master=master))
    server.spawn()
    assert properties(server)["spark.default.parallelism"] == cores


def test_the_properties_file_is_private(monkeypatch: pytest.MonkeyPatch, spawned, tmp_path: Path) -> None:
    """It holds the S3 secret when the lake is on S3."""
    monkeypatch.setattr(
        spark_server,
        "lake_spark_conf",
        lambda memory, jars, s3=None: {"spark.hadoop.fs.s3a.secret.key": s3.secret_key if s3 else ""},
    )
    endpoint = S3Endpoint("http://127.0.0.1:9000", "us-east-1", access_key="k", secret_key="s3cret")
    server = SparkConnectServer(spec(tmp_path, s3=endpoint))
    server.spawn()
    assert properties(server)["spark.hadoop.fs.s3a.secret.key"] == "s3cret"
    assert stat.S_IMODE(server.properties_file.stat().st_mode) == 0o600
    assert "s3cret" not in " ".join(spawned[0]["argv"])


def test_nothing_answering_is_not_healthy(tmp_path: Path) -> None:
    assert not SparkConnectServer(spec(tmp_path)).healthy()


class TestStartedAgainByARun:
    @staticmethod
    def starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
        started: list[str] = []
        monkeypatch.setattr(SparkConnectServer, "ensure_running", lambda self: started.append(self.address))
        return started

    def test_a_server_the_stack_started_and_lost_is_started_again(self, monkeypatch, tmp_path: Path) -> None:
        started = self.starts(monkeypatch)
        server = SparkConnectServer(spec(tmp_path))
        server.wanted_file.parent.mkdir(parents=True)
        server.wanted_file.touch()  # what `stack up` leaves; a SIGKILL does not remove it
        spark_server.ensure_spark_server(server.spec)
        assert started == ["127.0.0.1:15999"]

    def test_after_stack_down_a_run_fails_instead_of_starting_one(self, monkeypatch, tmp_path: Path) -> None:
        started = self.starts(monkeypatch)
        server = SparkConnectServer(spec(tmp_path))
        server.wanted_file.parent.mkdir(parents=True)
        server.wanted_file.touch()
        assert server.stop() is False  # nothing ran; the stack no longer wants it all the same
        assert not server.wanted_file.exists()
        with pytest.raises(StackError, match="analytics stack up"):
            spark_server.ensure_spark_server(server.spec)
        assert started == []
