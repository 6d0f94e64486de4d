"""What a newcomer's machine may have in the way, each refused in one line that says what to do:
a port held by another program, a missing or too old Java."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.api_servers import IngestServer
from analytics_pipeline.stack.kafka_broker import java_executable, java_major_version
from analytics_pipeline.stack.services import StackError


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program listens on (it answers TCP, but is no service of ours)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def fake_jdk(root: Path, version_line: str) -> Path:
    """A folder shaped like a JDK whose java prints ``version_line`` as `java -version` does."""
    java = root / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return root


def test_a_port_held_by_another_program_names_the_variable_that_moves_the_service(
    held_port: int, tmp_path: Path, clean_analytics_env: None
):
    server = IngestServer(Settings(home=tmp_path, ingest_port=held_port))
    with pytest.raises(StackError) as refused:
        server.ensure_running()
    message = str(refused.value)
    assert "\n" not in message
    assert f"port {held_port} is taken by another program" in message
    assert "set ANALYTICS_INGEST_PORT to a free port" in message


@pytest.mark.parametrize(
    ("line", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "11.0.22" 2024-01-16', 11),
        ('java version "1.8.0_402"', 8),
        ('openjdk version "25" 2025-09-16', 25),
        ("no version here", None),
    ],
)
def test_the_java_major_version_is_read_from_java_version(tmp_path: Path, line: str, major: int | None):
    assert java_major_version(str(fake_jdk(tmp_path, line) / "bin" / "java")) == major


def test_a_java_that_does_not_run_has_no_version(tmp_path: Path):
    assert java_major_version(str(tmp_path / "nothing")) is None


def test_an_old_java_is_refused_in_one_line_saying_what_to_set(tmp_path: Path, clean_analytics_env: None):
    jdk = fake_jdk(tmp_path / "jdk11", 'openjdk version "11.0.22" 2024-01-16')
    with pytest.raises(StackError) as refused:
        java_executable(Settings(home=tmp_path, java_home=jdk))
    message = str(refused.value)
    assert "\n" not in message
    assert "is Java 11; Kafka and Spark need Java 17+" in message
    assert "ANALYTICS_JAVA_HOME" in message


def test_a_java_17_is_taken(tmp_path: Path, clean_analytics_env: None):
    jdk = fake_jdk(tmp_path / "jdk17", 'openjdk version "17.0.15" 2025-04-15')
    assert java_executable(Settings(home=tmp_path, java_home=jdk)) == str(jdk / "bin" / "java")
