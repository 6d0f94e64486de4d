"""A redis-server started for one benchmark run and always stopped: production-like memory
settings (maxmemory with allkeys-lru), no persistence, optionally in cluster mode."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from analytics_pipeline.stack.ports import free_port
from bench.common import BenchError


@contextmanager
def throwaway_redis(binary: str, *, cluster: bool = False) -> Iterator[int]:
    """A redis-server on a free loopback port in a temp dir; stopped whatever happens.

    With ``cluster`` it is a one-node Redis Cluster that owns every slot, so that plain commands work.
    """
    path = shutil.which(binary)
    if path is None:
        raise BenchError(f"{binary} not found: install redis-server (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as workdir:
        port = free_port()
        log = Path(workdir) / "redis.log"
        args = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--maxmemory", "8gb", "--maxmemory-policy", "allkeys-lru", "--dir", workdir]
        args += ["--logfile", str(log)]
        if cluster:
            args += ["--cluster-enabled", "yes", "--cluster-port", str(free_port())]
            args += ["--cluster-config-file", str(Path(workdir) / "nodes.conf")]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(proc, port, log)
            if cluster:
                own_all_slots(port)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
            raise BenchError(f"redis-server exited with {proc.returncode} at start:\n{tail}")
        try:
            with redis.Redis(port=port, socket_connect_timeout=0.2) as probe:
                probe.ping()
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise BenchError(f"redis-server did not answer PING on 127.0.0.1:{port} within {timeout_s:.0f} s")


def own_all_slots(port: int, timeout_s: float = 10.0) -> None:
    with redis.Redis(port=port) as client:
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + timeout_s
        while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            if time.monotonic() > deadline:
                raise BenchError(f"the one-node cluster on port {port} did not reach cluster_state:ok")
            time.sleep(0.1)
