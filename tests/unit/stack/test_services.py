"""Address helpers of the local stack: host/port splitting and the loopback test."""

from __future__ import annotations

import pytest

from analytics_pipeline.stack.services import is_loopback, split_host_port


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
