"""Address helpers of the local stack: host/port splitting and the loopback test."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_pipeline.stack.process import ManagedProcess
from analytics_pipeline.stack.services import (
    StackError,
    StackService,
    ensure_running_together,
    is_loopback,
    split_host_port,
)


class TestSplitHostPort:
    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            ("kafka.internal:9094", ("kafka.internal", 9094)),
            ("127.0.0.1:9092", ("127.0.0.1", 9092)),
            ("localhost:6390", ("localhost", 6390)),
        ],
    )
    def test_host_and_port(self, address: str, expected: tuple[str, int]) -> None:
        assert split_host_port(address, 1) == expected

    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            ("redis://cache:6380/0", ("cache", 6380)),
            ("redis://cache/0", ("cache", 6379)),
            ("rediss://user:secret@cache.example.com:6390/1", ("cache.example.com", 6390)),
            ("redis://[::1]:6381/0", ("::1", 6381)),
            ("redis:///0", ("127.0.0.1", 6379)),
        ],
    )
    def test_urls(self, address: str, expected: tuple[str, int]) -> None:
        assert split_host_port(address, 6379) == expected

    @pytest.mark.parametrize(
        ("address", "expected"),
        [(":9000", ("127.0.0.1", 9000)), ("broker:", ("broker", 9092)), ("", ("127.0.0.1", 9092))],
    )
    def test_missing_parts_take_the_defaults(self, address: str, expected: tuple[str, int]) -> None:
        assert split_host_port(address, 9092) == expected

    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            ("[::1]:9092", ("::1", 9092)),
            ("::1", ("::1", 9092)),
            ("localhost", ("localhost", 9092)),
            ("[fd00::5]:9094", ("fd00::5", 9094)),
        ],
    )
    def test_ipv6_and_bare_hosts(self, address: str, expected: tuple[str, int]) -> None:
        assert split_host_port(address, 9092) == expected
        assert is_loopback(split_host_port("[::1]:9092", 9092)[0]), "a local IPv6 broker is started locally"


class TestIsLoopback:
    @pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "localhost"])
    def test_loopback_hosts(self, host: str) -> None:
        assert is_loopback(host) is True

    @pytest.mark.parametrize(
        "host",
        [
            "10.0.0.1",
            "192.168.1.10",
            "0.0.0.0",  # noqa: S104 - a host to classify, nothing binds to it
            "::",
            "8.8.8.8",
            "kafka.internal",
            "localhost.example",
        ],
    )
    def test_other_hosts(self, host: str) -> None:
        assert is_loopback(host) is False


class QuorumMember(StackService):
    """Healthy only once every member of its quorum was spawned, as a KRaft node of three."""

    start_timeout_s = 2.0

    def __init__(self, name: str, quorum: list[QuorumMember], tmp: Path) -> None:
        super().__init__("127.0.0.1", 1, ManagedProcess(name, tmp / "run", tmp / "logs"))
        self.name = name
        self.quorum = quorum
        self.spawned = False

    def healthy(self) -> bool:
        return all(member.spawned for member in self.quorum)

    def spawn(self) -> None:
        self.spawned = True


class TestEnsureRunningTogether:
    def test_every_member_is_spawned_before_any_is_waited_for(self, tmp_path: Path) -> None:
        quorum: list[QuorumMember] = []
        quorum += [QuorumMember(f"node-{i}", quorum, tmp_path) for i in (1, 2, 3)]
        statuses = ensure_running_together(quorum)
        assert [(s.name, s.healthy) for s in statuses] == [
            ("node-1", True),
            ("node-2", True),
            ("node-3", True),
        ]

    def test_one_member_alone_times_out_with_its_log(self, tmp_path: Path) -> None:
        quorum: list[QuorumMember] = []
        quorum += [QuorumMember(f"node-{i}", quorum, tmp_path) for i in (1, 2, 3)]
        with pytest.raises(StackError, match="node-1 did not become healthy"):
            quorum[0].ensure_running()
