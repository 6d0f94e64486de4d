"""A long-running child process we started ourselves, tracked by a pid file.

The pid file also records a marker that must appear in the process's command line, so a pid
recycled by the OS for an unrelated process is never mistaken for ours (nor signalled).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    run_dir: Path
    log_dir: Path
    stop_signal: signal.Signals = signal.SIGTERM

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def running_pid(self) -> int | None:
        """The pid if the process this file describes is alive, else None (and the stale file goes)."""
        try:
            record = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid, marker = int(record["pid"]), str(record["marker"])
        if _alive_with_marker(pid, marker):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        marker: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> int:
        """Start detached (own session, so a Ctrl-C in the caller's terminal does not reach it)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - argv is built by this package, never from input
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                user=user,
                start_new_session=True,
            )
        self.pid_file.write_text(json.dumps({"pid": process.pid, "marker": marker}))
        return process.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """The stop signal (SIGTERM), then SIGKILL after the timeout; True if a process was stopped."""
        pid = self.running_pid()
        if pid is None:
            return False
        _signal_group(pid, self.stop_signal)
        if not _wait_gone(pid, timeout_s):
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL without any grace: what a crash or the OOM killer does."""
        pid = self.running_pid()
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, 10.0)
            self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _alive_with_marker(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    if _is_zombie(pid):
        return False
    # Right after fork the kernel may not have published the new command line yet: an empty
    # one is a child still starting, not a stranger.
    return not cmdline.strip() or marker in cmdline


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, signum)


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            reaped, _status = os.waitpid(pid, os.WNOHANG)  # our own child: reap it
            if reaped == pid:
                return True
        except ChildProcessError:
            pass  # started by another process (`make up` earlier): just watch /proc
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.1)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    """Poll ``check`` until it returns True or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
