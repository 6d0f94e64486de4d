"""The Dagster instance home under ``home`` and how the webserver and daemon are launched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from analytics_pipeline.dagster_api import DagsterApiError
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import dagster_services, stack
from analytics_pipeline.stack.dagster_services import (
    BIN_DIR,
    HEARTBEAT_TOLERANCE_S,
    WORKSPACE_YAML,
    DagsterDaemon,
    DagsterWebserver,
    dagster_instance_home,
)
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import REPO_ROOT, Ownership

pytestmark = pytest.mark.usefixtures("clean_analytics_env")


def instance_config(settings: Settings) -> dict[str, Any]:
    return yaml.safe_load((dagster_instance_home(settings) / "dagster.yaml").read_text())


def base_dirs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["base_dir"]] if "base_dir" in node else []
        return own + [d for value in node.values() for d in base_dirs(value)]
    return []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", kafka_bootstrap_servers="127.0.0.1:19092")


class TestInstanceHome:
    def test_lives_in_home_and_every_base_dir_is_absolute_inside_it(self, settings: Settings) -> None:
        home = settings.home.resolve()
        assert dagster_instance_home(settings) == home / "dagster_home"
        config = instance_config(settings)
        dirs = base_dirs(config)
        assert len(dirs) == 3, "storage, local artifacts and compute logs"
        assert all(Path(d).is_absolute() and Path(d).is_relative_to(home / "dagster") for d in dirs)
        assert config["storage"]["sqlite"]["base_dir"] == str(home / "dagster" / "storage")
        assert config["local_artifact_storage"]["config"]["base_dir"] == str(home / "dagster")

    def test_a_relative_home_is_resolved(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        instance_home = dagster_instance_home(Settings(home=Path("state")))
        assert instance_home == tmp_path / "state" / "dagster_home"
        assert all(Path(d).is_absolute() for d in base_dirs(instance_config(Settings(home=Path("state")))))

    def test_keeps_telemetry_off_the_run_queue_limits_and_run_retries(self, settings: Settings) -> None:
        config = instance_config(settings)
        assert config["telemetry"] == {"enabled": False}
        runs = config["concurrency"]["runs"]
        assert runs["max_concurrent_runs"] == 5
        assert "tag_concurrency_limits" not in runs, "the pool serializes the lake's writers"
        assert config["concurrency"]["pools"] == {
            "default_limit": 1,
            "granularity": "op",
            "op_granularity_run_buffer": 1,
        }
        assert config["run_queue"] == {"dequeue_interval_seconds": 2}
        assert config["run_monitoring"] == {"enabled": True, "free_slots_after_run_end_seconds": 30}
        assert config["run_retries"] == {
            "enabled": True,
            "max_retries": 2,
            "retry_on_asset_or_op_failure": False,
        }

    def test_is_idempotent(self, settings: Settings) -> None:
        target = dagster_instance_home(settings) / "dagster.yaml"
        before = (target.read_text(), target.stat().st_mtime_ns)
        dagster_instance_home(settings)
        assert (target.read_text(), target.stat().st_mtime_ns) == before

    def test_absolute_and_env_base_dirs_are_left_alone(self, tmp_path: Path) -> None:
        config = {
            "a": {"base_dir": "/srv/dagster"},
            "b": [{"base_dir": {"env": "X"}}],
            "c": {"base_dir": "x"},
        }
        rebased = dagster_services._rebase(config, tmp_path)
        assert rebased == {
            "a": {"base_dir": "/srv/dagster"},
            "b": [{"base_dir": {"env": "X"}}],
            "c": {"base_dir": str(tmp_path / "x")},
        }

    def test_dagster_accepts_it(self, settings: Settings) -> None:
        """The keys are checked by Dagster itself, not only by this module's reading of them."""
        from dagster import DagsterInstance, QueuedRunCoordinator  # noqa: PLC0415 - slow import

        home = settings.home.resolve()
        with DagsterInstance.from_config(str(dagster_instance_home(settings))) as instance:
            assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
            concurrency = instance.get_concurrency_config()  # what the run queue daemon applies
            assert concurrency.run_queue_config.max_concurrent_runs == 5
            assert not concurrency.run_queue_config.tag_concurrency_limits
            assert concurrency.pool_config.default_pool_limit == 1
            assert concurrency.pool_config.pool_granularity.value == "op"
            assert concurrency.pool_config.op_granularity_run_buffer == 1
            assert instance.run_coordinator.dequeue_interval_seconds == 2
            assert instance.run_monitoring_enabled
            assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 30
            assert instance.run_retries_enabled
            assert instance.run_retries_max_retries == 2
            assert not instance.telemetry_enabled
            assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "EVENT_LOG_CONSUMER"} <= set(
                instance.get_required_daemon_types()
            )
        assert (home / "dagster" / "storage").is_dir(), "the sqlite storage was created inside home"


class TestWebserver:
    def test_command_address_and_environment(self, settings: Settings, spawned: list[dict[str, Any]]) -> None:
        settings = settings.model_copy(update={"dagster_url": "http://127.0.0.1:3999"})
        DagsterWebserver(settings).spawn()
        (call,) = spawned
        assert call["argv"] == [
            str(BIN_DIR / "dagster-webserver"),
            *("-w", str(WORKSPACE_YAML), "-h", "127.0.0.1", "-p", "3999"),
        ]
        assert call["marker"] in " ".join(call["argv"]), "the pid file's marker is in its command line"
        assert call["cwd"] == REPO_ROOT
        env = call["env"]
        assert env["DAGSTER_HOME"] == str(settings.home.resolve() / "dagster_home")
        assert env.items() >= settings.as_environment().items(), "the stack's ANALYTICS_* settings"
        assert env["ANALYTICS_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
        assert env["ANALYTICS_HOME"] == str(settings.home.resolve())

    @pytest.mark.parametrize(
        ("url", "local"), [("http://localhost:3000", True), ("http://dagster.internal", False)]
    )
    def test_started_only_on_loopback(self, settings: Settings, url: str, local: bool) -> None:
        assert DagsterWebserver(settings.model_copy(update={"dagster_url": url})).local is local


class TestDaemon:
    def test_command_and_environment_and_stale_heartbeats_wiped_first(
        self, settings: Settings, spawned: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        commands: list[tuple[str, int]] = []  # (command, processes spawned before it)
        monkeypatch.setattr(
            DagsterDaemon, "_cli", lambda self, command, env: commands.append((command, len(spawned))) or 0
        )
        DagsterDaemon(settings).spawn()
        assert commands == [("wipe", 0)]
        (call,) = spawned
        assert call["argv"] == [str(BIN_DIR / "dagster-daemon"), "run", "-w", str(WORKSPACE_YAML)]
        assert call["marker"] in " ".join(call["argv"])
        assert call["cwd"] == REPO_ROOT
        assert call["env"]["DAGSTER_HOME"] == str(dagster_instance_home(settings))
        assert call["env"].items() >= settings.as_environment().items()

    def test_without_our_process_it_is_down_whatever_the_heartbeats_say(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(DagsterDaemon, "_cli", lambda *_: pytest.fail("no liveness-check without a pid"))
        status = DagsterDaemon(settings).status()
        assert (status.ownership, status.healthy, status.pid) == (Ownership.DOWN, False, None)

    @pytest.mark.parametrize(("exit_status", "healthy"), [(0, True), (1, False), (None, False)])
    def test_healthy_is_our_process_and_a_passing_liveness_check(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch, exit_status: int | None, healthy: bool
    ) -> None:
        checks: list[tuple[str, dict[str, str]]] = []
        monkeypatch.setattr(ManagedProcess, "running_pid", lambda self: 4242)
        monkeypatch.setattr(
            DagsterDaemon, "_cli", lambda self, command, env: checks.append((command, env)) or exit_status
        )
        status = DagsterDaemon(settings).status()
        assert (status.ownership, status.healthy, status.pid) == (Ownership.MANAGED, healthy, 4242)
        ((command, env),) = checks
        assert command == "liveness-check"
        assert env["DAGSTER_DAEMON_HEARTBEAT_TOLERANCE"] == str(HEARTBEAT_TOLERANCE_S)
        assert env["DAGSTER_HOME"] == str(dagster_instance_home(settings))

    def test_a_remote_daemon_is_judged_by_its_webserver(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = settings.model_copy(update={"dagster_url": "http://dagster.internal:3000"})
        reports = {"SENSOR": True, "SCHEDULER": True}
        monkeypatch.setattr(dagster_services, "daemon_statuses", lambda url: reports)
        daemon = DagsterDaemon(settings)
        assert not daemon.local
        assert daemon.status().ownership is Ownership.OTHER
        reports["SCHEDULER"] = False
        assert not daemon.healthy()


def test_the_stack_starts_them_after_the_consumers(settings: Settings) -> None:
    names = [service.name for service in stack.stack_services(settings)]
    assert names[-6:] == [
        "stream-worker",
        "metadata-indexer",
        "exporter",
        "spark-connect",  # the daemon's first run finds it up
        "dagster-webserver",
        "dagster-daemon",
    ]


def test_without_a_spark_connect_url_the_stack_starts_no_spark(settings: Settings) -> None:
    names = [s.name for s in stack.stack_services(settings.model_copy(update={"spark_connect_url": ""}))]
    assert "spark-connect" not in names
    assert names[-2:] == ["dagster-webserver", "dagster-daemon"]


class TestGraphql:
    @staticmethod
    def answer(monkeypatch: pytest.MonkeyPatch, payload: dict[str, Any]) -> None:
        def post(url: str, **_: Any) -> httpx.Response:
            return httpx.Response(200, json=payload, request=httpx.Request("POST", url))

        monkeypatch.setattr(dagster_services.httpx, "post", post)

    def test_daemon_statuses_keep_the_required_daemons(self, monkeypatch: pytest.MonkeyPatch) -> None:
        statuses = [
            {"daemonType": "SENSOR", "required": True, "healthy": True},
            {"daemonType": "SCHEDULER", "required": True, "healthy": False},
            {"daemonType": "MONITORING", "required": False, "healthy": None},
        ]
        self.answer(monkeypatch, {"data": {"instance": {"daemonHealth": {"allDaemonStatuses": statuses}}}})
        assert dagster_services.daemon_statuses("http://dagster:3000/") == {
            "SENSOR": True,
            "SCHEDULER": False,
        }

    def test_errors_in_the_answer_raise(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answer(monkeypatch, {"errors": [{"message": "Cannot query field"}], "data": None})
        with pytest.raises(DagsterApiError, match="Cannot query field"):
            dagster_services.graphql("http://dagster:3000", "{ nope }")
