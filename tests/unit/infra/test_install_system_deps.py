"""infra/scripts/install-system-deps.sh, run by bash with a PATH that decides what is missing.

The package manager is the one stand-in: a script named apt-get that records its arguments (and
whether policy-rc.d exists while it runs), so no test installs packages on the machine. Every
other tool the script uses is the machine's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "infra" / "scripts" / "install-system-deps.sh"
REAL_TOOLS = ("bash", "awk", "grep", "tee", "chmod", "rm", "cat", "id")
POLICY = "#!/bin/sh\nexit 101\n"


class Machine:
    """A bin folder of real tools plus fakes, and a policy-rc.d path of its own."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.calls = root / "apt-calls"
        self.policy = root / "policy-rc.d"
        for tool in REAL_TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed by the script"
            (self.bin / tool).symlink_to(found)

    def fake(self, name: str, body: str) -> None:
        path = self.bin / name
        path.unlink(missing_ok=True)  # a link to the real tool: never write through it
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)

    def present(self, *names: str) -> None:
        for name in names:
            self.fake(name, "exit 0")

    def java(self, version: str) -> None:
        self.fake("java", f"echo 'openjdk version \"{version}\" 2025-04-15' >&2")

    def apt_get(self, *, fails: bool = False) -> None:
        """Records `install` calls and whether the policy file was there during each."""
        status = 100 if fails else 0
        self.fake(
            "apt-get",
            f'echo "$* policy=$([ -e {self.policy} ] && echo yes || echo no)" >> {self.calls}\nexit {status}',
        )

    def run(self) -> subprocess.CompletedProcess[str]:
        env = {"PATH": str(self.bin), "POLICY_RC_D": str(self.policy), "HOME": os.environ.get("HOME", "/")}
        return subprocess.run(
            [str(self.bin / "bash"), str(SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def installs(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def packages(self) -> list[str]:
        """The packages named by every `apt-get install` call."""
        words = (word for call in self.installs() if call.startswith("install") for word in call.split()[1:])
        return [word for word in words if not word.startswith(("-", "policy="))]


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    machine = Machine(tmp_path)
    machine.java("17.0.15")
    machine.present("mvn", "wrk", "chromium", "chromedriver")
    machine.apt_get()
    return machine


def test_a_missing_package_installs_and_succeeds_when_policy_rc_d_already_exists(machine: Machine):
    machine.policy.write_text(POLICY)
    result = machine.run()
    assert result.returncode == 0, result.stderr
    (install,) = [call for call in machine.installs() if call.startswith("install")]
    assert "redis-server" in install.split()
    assert install.endswith("policy=yes")
    assert machine.policy.read_text() == POLICY, "a policy the machine had is left as it was"


def test_a_policy_it_created_keeps_services_from_starting_and_is_removed_after(machine: Machine):
    result = machine.run()
    assert result.returncode == 0, result.stderr
    (install,) = [call for call in machine.installs() if call.startswith("install")]
    assert install.endswith("policy=yes")
    assert not machine.policy.exists()


def test_only_what_is_missing_is_installed(machine: Machine):
    machine.present("redis-server")
    result = machine.run()
    assert result.returncode == 0, result.stderr
    postgres_here = bool(list(Path("/usr/lib/postgresql").glob("*/bin/postgres")))
    assert machine.packages() == ([] if postgres_here else ["postgresql"])


def test_a_machine_without_wrk_gets_it(machine: Machine):
    machine.present("redis-server")
    (machine.bin / "wrk").unlink()
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert "wrk" in machine.packages()


@pytest.mark.parametrize(("gone", "package"), [("chromium", "chromium"), ("chromedriver", "chromium-driver")])
def test_a_machine_without_the_browser_or_its_driver_gets_that_package(machine: Machine, gone, package):
    machine.present("redis-server")
    (machine.bin / gone).unlink()
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert [p for p in machine.packages() if p.startswith("chromium")] == [package]


def test_an_old_java_asks_for_java_17(machine: Machine):
    machine.java("11.0.22")
    machine.present("redis-server")
    result = machine.run()
    (install,) = [call for call in machine.installs() if call.startswith("install")]
    assert "openjdk-17-jre-headless" in install.split()
    # The fake apt-get installs nothing, so java stays 11: that is refused in one line.
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: java on PATH is still 11")


def test_apt_get_failing_twice_says_what_to_do_in_one_line(machine: Machine):
    machine.apt_get(fails=True)
    result = machine.run()
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: apt-get could not install")
    assert "redis-server" in last
    assert "apt sources" in last


def test_without_root_or_sudo_it_says_what_to_run(machine: Machine):
    machine.fake("id", "echo 1000")
    result = machine.run()
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "needs root" in line
    assert "apt-get install -y" in line
    assert "redis-server" in line
    assert machine.installs() == []
