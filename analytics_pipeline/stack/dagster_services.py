"""Dagster's webserver and daemon as background processes of the local stack.

Both run on an instance whose DAGSTER_HOME and state live under the stack's ``home``, so a
private stack (tests, benchmarks) has a private Dagster, and with the stack's ANALYTICS_*
settings, so the code location they load sees the same Kafka, Redis and home. Dagster itself is
not imported here: the executables next to ``sys.executable`` are launched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from analytics_pipeline.dagster_api import graphql
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import (
    REPO_ROOT,
    Ownership,
    ServiceStatus,
    StackService,
    split_host_port,
)

DAGSTER_YAML = REPO_ROOT / "dagster.yaml"
WORKSPACE_YAML = REPO_ROOT / "workspace.yaml"
BIN_DIR = Path(sys.executable).parent
DEFAULT_PORT = 3000
# Where the repo's dagster.yaml keeps state, relative to the repo root (for DAGSTER_HOME=$PWD).
_REPO_STATE_DIR = Path(".local/dagster")
_GENERATED_NOTE = f"# Generated from {DAGSTER_YAML} by `analytics stack`; edit that file instead.\n"
# Daemons heartbeat every 30 s. Dagster's default tolerance (30 min) would call a daemon that
# died minutes ago live; 90 s beyond the interval still allows for a slow tick.
HEARTBEAT_TOLERANCE_S = 90
_CLI_TIMEOUT_S = 30.0

DAEMON_HEALTH_QUERY = "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"


def instance_home_path(settings: Settings) -> Path:
    """Where :func:`dagster_instance_home` puts DAGSTER_HOME, without writing anything."""
    return settings.home.resolve() / "dagster_home"


def dagster_instance_home(settings: Settings) -> Path:
    """``{home}/dagster_home`` with the repo's dagster.yaml, every relative ``base_dir`` moved
    under ``{home}/dagster`` so the instance's state follows ``home``; idempotent."""
    instance_home = instance_home_path(settings)
    config = yaml.safe_load(DAGSTER_YAML.read_text())
    state_dir = settings.home.resolve() / "dagster"
    text = _GENERATED_NOTE + yaml.safe_dump(_rebase(config, state_dir), sort_keys=False)
    instance_home.mkdir(parents=True, exist_ok=True)
    target = instance_home / "dagster.yaml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return instance_home


def _rebase(node: Any, state_dir: Path) -> Any:
    """A copy of the config in which every relative ``base_dir`` lies under ``state_dir``."""
    if isinstance(node, list):
        return [_rebase(item, state_dir) for item in node]
    if not isinstance(node, dict):
        return node
    rebased = {key: _rebase(value, state_dir) for key, value in node.items()}
    base_dir = rebased.get("base_dir")
    if isinstance(base_dir, str) and not Path(base_dir).is_absolute():
        relative = Path(base_dir)
        if relative.is_relative_to(_REPO_STATE_DIR):
            relative = relative.relative_to(_REPO_STATE_DIR)
        rebased["base_dir"] = str(state_dir / relative)
    return rebased


def dagster_environment(settings: Settings) -> dict[str, str]:
    """The caller's environment, the stack's ANALYTICS_* settings and the instance's DAGSTER_HOME."""
    return {
        **os.environ,
        **settings.as_environment(),
        "DAGSTER_HOME": str(dagster_instance_home(settings)),
    }


def daemon_statuses(dagster_url: str) -> dict[str, bool]:
    """Health of each required daemon as the webserver at ``dagster_url`` reports it."""
    statuses = graphql(dagster_url, DAEMON_HEALTH_QUERY)["instance"]["daemonHealth"]["allDaemonStatuses"]
    return {s["daemonType"]: bool(s["healthy"]) for s in statuses if s["required"]}


class DagsterWebserver(StackService):
    """The UI and GraphQL API at ``dagster_url``; healthy when ``/server_info`` answers 200."""

    name = "dagster-webserver"
    address_setting = "ANALYTICS_DAGSTER_URL"
    start_timeout_s = 60.0  # it loads the code location before it listens: 4-8 s here

    def __init__(self, settings: Settings) -> None:
        host, port = split_host_port(settings.dagster_url, DEFAULT_PORT)
        home = settings.home.resolve()
        super().__init__(host, port, ManagedProcess(f"dagster-webserver-{port}", home / "run", home / "logs"))
        self.settings = settings

    @property
    def argv(self) -> list[str]:
        return [str(BIN_DIR / "dagster-webserver"), *self._options]

    @property
    def _options(self) -> list[str]:
        return ["-w", str(WORKSPACE_YAML), "-h", self.host, "-p", str(self.port)]

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.settings.dagster_url.rstrip('/')}/server_info", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def spawn(self) -> None:
        env = dagster_environment(self.settings)
        marker = " ".join(["dagster-webserver", *self._options])
        self.process.spawn(self.argv, marker=marker, env=env, cwd=REPO_ROOT)


class DagsterDaemon(StackService):
    """Sensors, schedules, the run queue and run retries. It listens on no port, so health is:
    our process runs and ``dagster-daemon liveness-check`` (about 2 s) finds a heartbeat from
    every daemon the instance requires within HEARTBEAT_TOLERANCE_S. Local exactly when the
    webserver is; a remote one is judged by what its webserver reports."""

    name = "dagster-daemon"
    start_timeout_s = 60.0

    def __init__(self, settings: Settings) -> None:
        host, _port = split_host_port(settings.dagster_url, DEFAULT_PORT)
        home = settings.home.resolve()
        super().__init__(host, 0, ManagedProcess("dagster-daemon", home / "run", home / "logs"))
        self.settings = settings

    @property
    def address(self) -> str:
        return f"DAGSTER_HOME={instance_home_path(self.settings)}" if self.local else "remote"

    @property
    def argv(self) -> list[str]:
        return [str(BIN_DIR / "dagster-daemon"), "run", "-w", str(WORKSPACE_YAML)]

    def healthy(self) -> bool:
        if not self.local:
            try:
                return all(daemon_statuses(self.settings.dagster_url).values())
            except (httpx.HTTPError, ValueError, LookupError, TypeError):
                return False
        if self.process.running_pid() is None:
            return False  # heartbeats outlive a dead daemon by the tolerance
        env = dagster_environment(self.settings)
        env["DAGSTER_DAEMON_HEARTBEAT_TOLERANCE"] = str(HEARTBEAT_TOLERANCE_S)
        return self._cli("liveness-check", env) == 0

    def status(self) -> ServiceStatus:
        """As for every service, except that there is no port to probe for a stranger."""
        pid = self.process.running_pid()
        healthy = self.healthy()
        ownership = Ownership.MANAGED if pid else Ownership.OTHER if healthy else Ownership.DOWN
        return ServiceStatus(self.name, self.address, ownership, healthy, pid)

    def spawn(self) -> None:
        env = dagster_environment(self.settings)
        # The last daemon's heartbeats would pass the health check before this one has beaten.
        self._cli("wipe", env)
        marker = f"dagster-daemon run -w {WORKSPACE_YAML}"
        self.process.spawn(self.argv, marker=marker, env=env, cwd=REPO_ROOT)

    def _cli(self, command: str, env: dict[str, str]) -> int | None:
        """Exit status of ``dagster-daemon <command>`` on this instance (None: it hung)."""
        try:
            return subprocess.run(  # noqa: S603 - argv is built here, never from input
                [str(BIN_DIR / "dagster-daemon"), command],
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                timeout=_CLI_TIMEOUT_S,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            return None
