"""Latencies of the query API as a client sees them: sequential requests on one keep-alive
connection, per round; and the time of one request when each asks something new."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.common import BenchError


@dataclass(frozen=True)
class Latency:
    label: str
    p50_ms: float
    p99_ms: float
    requests: int


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def sample_latency(
    label: str, send: Callable[[], httpx.Response], requests: int, rounds: int, check: Callable[[dict], None]
) -> Latency:
    """p50 and p99 of each round (after one warm-up round), then the median of the rounds."""
    p50s, p99s = [], []
    for round_ in range(rounds + 1):
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = send()
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise BenchError(f"{label}: {response.status_code} {response.text[:200]}")
            check(response.json())
        if round_:  # round 0 warms up
            p50s.append(percentile(samples, 0.50))
            p99s.append(percentile(samples, 0.99))
    return Latency(label, statistics.median(p50s), statistics.median(p99s), requests)


def timed(send: Callable[[], httpx.Response]) -> tuple[float, dict]:
    started = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"{response.status_code} {response.text[:300]}")
    return elapsed, response.json()
