"""ManagedProcess with real short-lived children: pid file, marker check, stop, kill, SIGKILL fallback."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_pipeline.stack.process import ManagedProcess, wait_until

SLEEP = "import time; time.sleep(30)"
IGNORE_SIGTERM = (
    "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "pathlib.Path(sys.argv[1]).touch(); time.sleep(30)"
)

# spawn() detaches on purpose and drops its Popen handle; the child is reaped by pid in stop()/kill().
pytestmark = pytest.mark.filterwarnings("ignore:subprocess .* is still running:ResourceWarning")


def alive(pid: int) -> bool:
    """Running and not a zombie (a zombie has exited; only its exit status is left)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def process(tmp_path: Path) -> Iterator[ManagedProcess]:
    managed = ManagedProcess("sleeper", run_dir=tmp_path / "run", log_dir=tmp_path / "log")
    yield managed
    managed.kill()


@pytest.fixture
def marker() -> str:
    return f"unit-test-{uuid.uuid4().hex}"


def exec_finished(pid: int, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.fixture
def spawned(process: ManagedProcess, marker: str) -> Iterator[int]:
    """A sleeping child whose command line carries the marker; killed whatever the test did.

    Popen returns before the kernel has published the child's new command line: for a moment
    /proc/<pid>/cmdline is empty and running_pid() would judge the live child gone. The tests start
    once the command line is there.
    """
    pid = process.spawn([sys.executable, "-c", SLEEP, marker], marker=marker)
    assert wait_until(lambda: exec_finished(pid, marker), timeout_s=5, interval_s=0.001)
    yield pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


class TestSpawn:
    def test_writes_a_pid_file_with_pid_and_marker(
        self, process: ManagedProcess, marker: str, spawned: int
    ) -> None:
        assert json.loads(process.pid_file.read_text()) == {"pid": spawned, "marker": marker}
        assert process.pid_file == process.run_dir / "sleeper.pid"

    def test_the_child_runs_in_its_own_session(self, spawned: int) -> None:
        assert os.getsid(spawned) == spawned

    def test_output_goes_to_the_log_file(self, process: ManagedProcess, marker: str) -> None:
        pid = process.spawn([sys.executable, "-c", "print('hello from child')", marker], marker=marker)
        assert wait_until(lambda: "hello from child" in process.log_tail(), timeout_s=5, interval_s=0.01)
        assert process.log_file == process.log_dir / "sleeper.log"
        os.waitpid(pid, 0)

    def test_log_tail_without_a_log_is_empty(self, process: ManagedProcess) -> None:
        assert process.log_tail() == ""


class TestRunningPid:
    def test_sees_the_child_right_after_spawn(self, process: ManagedProcess, marker: str) -> None:
        """The kernel may show an empty command line for a moment after exec: still ours."""
        for _ in range(50):
            pid = process.spawn(["/bin/sh", "-c", "sleep 30", marker], marker=marker)
            try:
                assert process.running_pid() == pid
            finally:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    def test_is_the_pid_while_the_marked_process_runs(self, process: ManagedProcess, spawned: int) -> None:
        assert process.running_pid() == spawned

    def test_is_none_without_a_pid_file(self, process: ManagedProcess) -> None:
        assert process.running_pid() is None

    def test_is_none_for_an_unreadable_pid_file(self, process: ManagedProcess) -> None:
        process.run_dir.mkdir(parents=True)
        process.pid_file.write_text("not json")
        assert process.running_pid() is None

    def test_a_wrong_marker_gives_none_removes_the_file_and_spares_the_process(
        self, process: ManagedProcess, spawned: int
    ) -> None:
        # As if the OS had recycled our pid for an unrelated process.
        process.pid_file.write_text(json.dumps({"pid": spawned, "marker": "some-other-service"}))
        assert process.running_pid() is None
        assert not process.pid_file.exists()
        assert process.stop() is False
        assert alive(spawned)

    def test_a_dead_pid_gives_none_and_removes_the_stale_file(
        self, process: ManagedProcess, spawned: int
    ) -> None:
        os.kill(spawned, signal.SIGKILL)
        os.waitpid(spawned, 0)
        assert process.pid_file.exists()
        assert process.running_pid() is None
        assert not process.pid_file.exists()


class TestStopAndKill:
    def test_stop_terminates_the_process_and_removes_the_pid_file(
        self, process: ManagedProcess, spawned: int
    ) -> None:
        assert process.stop(timeout_s=5) is True
        assert not alive(spawned)
        assert not process.pid_file.exists()
        assert process.running_pid() is None

    def test_stop_again_reports_nothing_stopped(self, process: ManagedProcess, spawned: int) -> None:
        assert process.stop(timeout_s=5) is True
        assert process.stop(timeout_s=5) is False

    def test_stop_without_a_process_is_false(self, process: ManagedProcess) -> None:
        assert process.stop(timeout_s=5) is False

    def test_kill_ends_the_process_at_once(self, process: ManagedProcess, spawned: int) -> None:
        process.kill()
        assert not alive(spawned)
        assert not process.pid_file.exists()

    def test_kill_without_a_process_does_nothing(self, process: ManagedProcess) -> None:
        process.kill()
        assert process.running_pid() is None

    def test_a_child_ignoring_sigterm_is_sigkilled_after_the_timeout(
        self, process: ManagedProcess, marker: str, tmp_path: Path
    ) -> None:
        ready = tmp_path / "sigterm-ignored"
        pid = process.spawn([sys.executable, "-c", IGNORE_SIGTERM, str(ready), marker], marker=marker)
        try:
            assert wait_until(ready.exists, timeout_s=10, interval_s=0.01)
            started = time.monotonic()
            assert process.stop(timeout_s=0.3) is True
            elapsed = time.monotonic() - started
            assert not alive(pid)
            assert elapsed >= 0.3  # SIGTERM was ignored; only the SIGKILL after the timeout ended it
            assert elapsed < 5
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class TestWaitUntil:
    def test_returns_true_as_soon_as_the_check_passes(self) -> None:
        answers = iter([False, False, True])
        assert wait_until(lambda: next(answers), timeout_s=5, interval_s=0.001) is True

    def test_returns_false_after_the_timeout(self) -> None:
        started = time.monotonic()
        assert wait_until(lambda: False, timeout_s=0.05, interval_s=0.01) is False
        assert time.monotonic() - started >= 0.05
