"""What every service of the local stack has in common: an address, a health check, and a way
to start it when the address is on this machine and nothing answers there yet."""

from __future__ import annotations

import ipaddress
import socket
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from analytics_pipeline.stack.process import ManagedProcess, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"


class StackError(Exception):
    """A service could not be started or reached; the message says what to do."""


class Ownership(Enum):
    STARTED = "started here"  # we spawned it now
    MANAGED = "managed"  # a pid file of ours says we run it
    OTHER = "not ours"  # something answers at the address, started by someone else
    DOWN = "down"


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    ownership: Ownership
    healthy: bool
    pid: int | None


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``host:port``, ``[ipv6]:port``, a bare host, or a URL such as ``redis://host:port/0``."""
    if "://" not in address and address.count(":") > 1 and not address.startswith("["):
        return address, default_port  # a bare IPv6 address
    parts = urlsplit(address if "://" in address else f"//{address}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


class StackService(ABC):
    """A service at ``host:port``; started locally only when the host is a loopback address."""

    name: str
    address_setting: str = ""  # the ANALYTICS_* variable that moves it elsewhere
    start_timeout_s: float = 60.0

    def __init__(self, host: str, port: int, process: ManagedProcess) -> None:
        self.host = host
        self.port = port
        self.process = process

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def local(self) -> bool:
        return is_loopback(self.host)

    @abstractmethod
    def healthy(self) -> bool:
        """Does the service answer as it should (not just: is a port open)?"""

    @abstractmethod
    def spawn(self) -> None:
        """Start the process (the caller has checked that nothing answers yet)."""

    def status(self) -> ServiceStatus:
        pid = self.process.running_pid()
        healthy = self.healthy()
        if pid is not None:
            ownership = Ownership.MANAGED
        elif healthy or port_open(self.host, self.port):
            ownership = Ownership.OTHER
        else:
            ownership = Ownership.DOWN
        return ServiceStatus(self.name, self.address, ownership, healthy, pid)

    def ensure_running(self) -> ServiceStatus:
        """Start it if needed and wait until healthy; idempotent."""
        return ensure_running_together([self])[0]

    def start_if_down(self) -> ServiceStatus | None:
        """Spawn it when nothing answers; its status when already healthy (nothing to wait for)."""
        current = self.status()
        if current.healthy:
            return current
        if not self.local:
            raise StackError(f"{self.name} at {self.address} is external and does not answer")
        if current.ownership is Ownership.OTHER:
            move = f", or set {self.address_setting} to a free port" if self.address_setting else ""
            raise StackError(
                f"port {self.port} is taken by another program, not a healthy {self.name}: stop it{move}"
            )
        if current.ownership is Ownership.DOWN:
            self.spawn()
        return None

    def wait_healthy(self) -> ServiceStatus:
        """Wait for the health check after a start; raises with the log's tail when it times out."""
        if not wait_until(self.healthy, self.start_timeout_s):
            pid_alive = self.process.running_pid() is not None
            hint = "still starting" if pid_alive else "exited"
            raise StackError(
                f"{self.name} did not become healthy within {self.start_timeout_s:g} s ({hint}); "
                f"log {self.process.log_file}:\n{self.process.log_tail()}"
            )
        return ServiceStatus(self.name, self.address, Ownership.STARTED, True, self.process.running_pid())

    def stop(self) -> bool:
        """Stop it if (and only if) a pid file of ours says we started it."""
        return self.process.stop()


def ensure_running_together(services: Sequence[StackService]) -> list[ServiceStatus]:
    """Start every one that is down (in parallel: a JVM takes seconds to start), then wait for
    each: nodes of one quorum (the Kafka cluster) only become healthy once enough of them run,
    so none may be waited for alone."""
    if len(services) == 1:
        started = [services[0].start_if_down()]
    else:
        with ThreadPoolExecutor(max_workers=len(services)) as pool:
            started = list(pool.map(lambda service: service.start_if_down(), services))
    return [status or service.wait_healthy() for service, status in zip(services, started, strict=True)]


def stop_together(services: Sequence[StackService]) -> list[tuple[str, bool]]:
    """Stop them in parallel (each as ``stop`` does): the last nodes of a quorum would otherwise
    each wait out their controlled shutdown with no controller left to grant it."""
    with ThreadPoolExecutor(max_workers=max(len(services), 1)) as pool:
        stopped = list(pool.map(lambda service: service.stop(), services))
    return [(service.name, done) for service, done in zip(services, stopped, strict=True)]
