"""Drives HTTP with wrk (C, epoll: little CPU beside the server it loads) and a Lua script of this
package; the script writes what each answer 202 accepted to files read back here."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchError

SCRIPTS = Path(__file__).parent
LOAD_SCRIPT = SCRIPTS / "load.lua"
FIXED_RATE_SCRIPT = SCRIPTS / "fixed_rate.lua"


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: what it sent, how it went, and the ids (with latencies, at a fixed rate) the
    answers 202 accepted."""

    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    timeouts: int
    accepted: list[str]
    latencies_ms: list[float]

    @property
    def failures(self) -> int:
        return self.non_2xx + self.socket_errors + self.timeouts


@dataclass(frozen=True)
class Load:
    """What a wrk run sends, and how: ``rate`` None is as fast as the connections go."""

    url: str
    path: str
    template: Path
    api_key: str
    connections: int
    threads: int = 2
    events_per_request: int = 1
    rate: int | None = None


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("wrk is not installed: run `make install` (or apt-get install wrk)")
    return found


def run_wrk(load: Load, seconds: float, tag: str, out_dir: Path) -> WrkRun:
    prefix = out_dir / tag
    if load.rate is None:
        script, rate_args = LOAD_SCRIPT, [str(load.events_per_request)]
    else:
        script, rate_args = FIXED_RATE_SCRIPT, [str(load.rate)]
    argv = [
        wrk_path(),
        "-t",
        str(load.threads),
        "-c",
        str(load.connections),
        "-d",
        f"{max(1, round(seconds))}s",
    ]
    argv += ["--timeout", "10s", "-s", str(script), f"{load.url}{load.path}", "--", load.path]
    argv += [*rate_args, str(load.template), load.api_key, str(prefix), tag, str(load.threads)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 60)
    if done.returncode != 0 or not done.stdout.strip():
        output = done.stderr.strip() or done.stdout.strip()
        raise BenchError(f"wrk against {load.url}{load.path} failed ({done.returncode}): {output}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    accepted, latencies = _answers(prefix, load.threads)
    return WrkRun(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        non_2xx=summary["non2xx"],
        socket_errors=summary["socket_errors"],
        timeouts=summary["timeouts"],
        accepted=accepted,
        latencies_ms=latencies,
    )


def _answers(prefix: Path, threads: int) -> tuple[list[str], list[float]]:
    """The accepted ids of every thread's file, and their latencies when the file has them."""
    accepted: list[str] = []
    latencies: list[float] = []
    for thread in range(1, threads + 1):
        path = Path(f"{prefix}-{thread}")
        for line in path.read_text().splitlines():
            event_id, _, latency_us = line.partition(" ")
            accepted.append(event_id)
            if latency_us:
                latencies.append(int(latency_us) / 1000)
        path.unlink()
    return accepted, latencies
