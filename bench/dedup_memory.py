"""What one deduplicated event costs in Redis memory, per layout, and what 24 h of them cost.

The ingestion service keeps one key per accepted event (``event:{project}:{eventId}`` = ``accepted``,
24 h TTL; see ``analytics_pipeline.ingest.dedup``). This script starts a throwaway redis-server
configured like production (maxmemory with allkeys-lru, no persistence), writes N events through the
service's own ``Deduplicator`` (claim, then confirm, pipelined per batch) and reads the growth of
``used_memory``. Alternative layouts are loaded into the same server after a FLUSHALL, with variadic
commands: only their memory is compared, their write path is not the service's.

Every loader uses its own connection and closes it before memory is read, so that query buffers are
not counted as data. Bucketed layouts are read back once (the membership check they would need),
which also finishes the incremental rehashing of their hash tables, as production reads would.

Run: .venv/bin/python -m bench.dedup_memory [--keys N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import redis
import redis.asyncio as aioredis
from rich.console import Console

from analytics_pipeline.ingest.dedup import ACCEPTED, Claim, Deduplicator, dedup_key
from analytics_pipeline.redis_guard import GuardedRedis
from analytics_pipeline.resilience.breaker import FailureRateBreaker
from bench.common import BenchError
from bench.dedup_constants import HOURS, INTSET_FILL, PENDING_TTL_S, PROJECT, TTL_S
from bench.dedup_report import (
    breakdown_table,
    collision_table,
    memory_table,
    projection_table,
    throughput_table,
)
from bench.throwaway_redis import throwaway_redis

T = TypeVar("T")
console = Console(width=None if sys.stdout.isatty() else 170)


@dataclass(frozen=True)
class Dataset:
    ids: list[str]  # UUID4 strings, 36 chars, as clients send them
    digests: list[bytes]  # 16-byte BLAKE2b of each id; layouts take the bytes they need
    hours: list[str]  # the 24 hourly bucket suffixes, newest first

    def compact_keys(self) -> list[bytes]:
        prefix = f"e:{PROJECT}:".encode()
        return [prefix + digest for digest in self.digests]

    def by_hour(self, members: Sequence[T]) -> Iterator[tuple[str, list[T]]]:
        """Spread the events evenly over the 24 buckets, as a steady rate would."""
        for offset, hour in enumerate(self.hours):
            yield hour, list(members[offset :: len(self.hours)])


@dataclass(frozen=True)
class Layout:
    name: str
    structure: str
    expiry: str


@dataclass
class Result:
    layout: Layout
    events: int
    used_bytes: int
    small: Counter[int]  # bytes added per jemalloc small size class
    encodings: str
    claim_timing: ClaimTiming | None = None

    @property
    def per_event(self) -> float:
        return self.used_bytes / self.events


@dataclass
class ClaimTiming:
    claim_s: float = 0.0
    confirm_s: float = 0.0
    server_cpu_s: float = 0.0


# --- measuring ---------------------------------------------------------------------------------


def small_allocations(control: redis.Redis) -> Counter[int]:
    """Bytes per jemalloc small size class, from the first (merged or only) bins table of MALLOC-STATS.

    Large allocations are left out: jemalloc's thread cache keeps freed ones up to 32 KiB that its
    statistics still count as allocated, while ``used_memory`` does not.
    """
    text = control.execute_command("MEMORY", "MALLOC-STATS")
    small: Counter[int] = Counter()
    in_bins = False
    for line in (text.decode() if isinstance(text, bytes) else text).splitlines():
        parts = line.split()
        if not small and parts[:2] == ["bins:", "size"]:
            in_bins = True
        elif in_bins and parts and parts[0].isdigit():
            small[int(parts[0])] = int(parts[2])
        elif in_bins and parts[:1] != ["---"]:
            break
    return small


def server_cpu_s(control: redis.Redis) -> float:
    cpu = control.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def key_encodings(control: redis.Redis, sample: int = 200) -> str:
    """Encodings of all keys when there are few, else of a random sample."""
    if control.dbsize() <= 10_000:
        keys = list(control.scan_iter(count=1_000))
    else:
        keys = [control.randomkey() for _ in range(sample)]
    with control.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.object("encoding", key)
        found = Counter(enc.decode() if isinstance(enc, bytes) else str(enc) for enc in pipe.execute())
    return ", ".join(f"{name} x{count:,}" if len(found) > 1 else name for name, count in found.items())


def measure(control: redis.Redis, layout: Layout, events: int, load: Callable[[], T]) -> tuple[Result, T]:
    control.flushall(asynchronous=False)
    time.sleep(0.2)
    before_bytes, before = int(control.info("memory")["used_memory"]), small_allocations(control)
    outcome = load()
    time.sleep(0.5)  # let the server free the loader's connection and finish rehashing the keyspace
    after_bytes, after = int(control.info("memory")["used_memory"]), small_allocations(control)
    grown = Counter({size: after[size] - before[size] for size in after})
    result = Result(layout, events, after_bytes - before_bytes, grown, key_encodings(control))
    return result, outcome


# --- the layouts -------------------------------------------------------------------------------

OWN_TTL, HOURLY = "own TTL, to the second", "whole bucket, hourly"
PER_KEY = Layout("per-key (service)", "STRING event:{p}:{uuid} = accepted", OWN_TTL)
PER_KEY_CLUSTER = Layout("per-key (service), cluster mode", "as above, cluster-enabled yes", OWN_TTL)
PER_KEY_COMPACT = Layout("per-key, 128-bit digest key, int value", "STRING e:{p}:{16 B} = 1", OWN_TTL)
SETS_UUID = Layout("(a) hourly sets of eventIds", "SET dedup:{p}:{yyyymmddhh}", HOURLY)
SETS_DIGEST = Layout("(b) hourly sets of 64-bit digests", "SET of 8 raw bytes", HOURLY)
HASH_DIGEST = Layout("(c) hourly hashes, HSETNX digest", "HASH 8 B field -> 1", HOURLY)
INTSET_SHARDS = Layout(
    "(d) intset shards of 64-bit digests", f"SET dedup:{{p}}:{{hour}}:{{shard}}, ~{INTSET_FILL} ints", HOURLY
)


def load_per_key_service(port: int, data: Dataset, batch: int) -> ClaimTiming:
    """The service's own two phases, through its Deduplicator and async redis-py client."""
    return asyncio.run(_claim_and_confirm(port, data.ids, batch))


async def _claim_and_confirm(port: int, ids: list[str], batch: int) -> ClaimTiming:
    client = aioredis.Redis(host="127.0.0.1", port=port)
    dedup = Deduplicator(GuardedRedis(client, FailureRateBreaker("bench")), TTL_S, PENDING_TTL_S)
    timing = ClaimTiming()
    try:
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            began = time.perf_counter()
            claims = await dedup.claim(PROJECT, chunk)
            claimed = time.perf_counter()
            if claims is None or any(claim is not Claim.NEW for claim in claims):
                raise BenchError("a claim of a fresh eventId did not come back NEW; is the server healthy?")
            if not await dedup.confirm(PROJECT, chunk):
                raise BenchError("confirm failed: the Redis call raised; see the server log")
            timing.claim_s += claimed - began
            timing.confirm_s += time.perf_counter() - claimed
    finally:
        await client.aclose()
    return timing


def load_per_key(port: int, keys: Sequence[str | bytes], value: bytes | int, batch: int) -> None:
    """The end state of claim + confirm (one key, one value, one TTL) in one SET per event."""
    with redis.Redis(port=port) as client:
        for start in range(0, len(keys), batch):
            with client.pipeline(transaction=False) as pipe:
                for key in keys[start : start + batch]:
                    pipe.set(key, value, ex=TTL_S)
                pipe.execute()


def load_hourly_sets(port: int, data: Dataset, batch: int, members: Sequence[str | bytes]) -> None:
    with redis.Redis(port=port) as client:
        for hour, bucket in data.by_hour(members):
            key = f"dedup:{PROJECT}:{hour}"
            for start in range(0, len(bucket), batch):
                client.sadd(key, *bucket[start : start + batch])
            client.expireat(key, bucket_expiry(hour))
            for start in range(0, len(bucket), batch):
                if not all(client.smismember(key, bucket[start : start + batch])):
                    raise BenchError(f"{key} lost members it was just given; is maxmemory too small?")


def load_hourly_hashes(port: int, data: Dataset, batch: int) -> None:
    with redis.Redis(port=port) as client:
        for hour, bucket in data.by_hour([digest[:8] for digest in data.digests]):
            key = f"dedup:{PROJECT}:{hour}"
            for start in range(0, len(bucket), batch):
                client.hset(key, mapping=dict.fromkeys(bucket[start : start + batch], 1))
            client.expireat(key, bucket_expiry(hour))
            for start in range(0, len(bucket), batch):
                if None in client.hmget(key, bucket[start : start + batch]):
                    raise BenchError(f"{key} lost fields it was just given; is maxmemory too small?")


def load_intset_shards(port: int, data: Dataset, batch: int) -> None:
    """Shard each hour by other bits of the digest so that every set stays a compact intset."""
    shards = max(1, math.ceil(len(data.digests) / len(data.hours) / INTSET_FILL))
    with redis.Redis(port=port) as client:
        for hour, bucket in data.by_hour(data.digests):
            members: defaultdict[int, list[int]] = defaultdict(list)
            for digest in bucket:
                members[int.from_bytes(digest[8:12]) % shards].append(int.from_bytes(digest[:8], signed=True))
            with client.pipeline(transaction=False) as pipe:
                queued = 0
                for shard, ints in members.items():
                    pipe.sadd(f"dedup:{PROJECT}:{hour}:{shard}", *ints)
                    pipe.expireat(f"dedup:{PROJECT}:{hour}:{shard}", bucket_expiry(hour))
                    queued += len(ints)
                    if queued >= batch:
                        pipe.execute()
                        queued = 0
                pipe.execute()


def bucket_expiry(hour: str) -> int:
    """A bucket lives until 24 h after its hour ends."""
    start = datetime.strptime(hour, "%Y%m%d%H").replace(tzinfo=UTC)
    return int((start + timedelta(hours=1) + timedelta(seconds=TTL_S)).timestamp())


def run_redis_benchmark(port: int, requests: int, pipeline: int) -> float | None:
    """Server-side ceiling of the claim from a C client (50 connections), or None without the tool."""
    tool = shutil.which("redis-benchmark")
    if tool is None:
        return None
    command = ["SET", f"event:{PROJECT}:__rand_int__", "pending", "NX", "GET", "EX", str(PENDING_TTL_S)]
    args = [tool, "-p", str(port), "-c", "50", "-n", str(requests), "-r", "100000000000", "-P", str(pipeline)]
    try:
        done = subprocess.run(
            [*args, "--csv", *command], capture_output=True, text=True, timeout=120, check=True
        )
        return float(done.stdout.splitlines()[-1].split(",")[1].strip('"'))
    except (subprocess.SubprocessError, IndexError, ValueError) as exc:
        console.print(f"[yellow]redis-benchmark gave no figure ({exc}); reported as n/a[/yellow]")
        return None


# --- the run -----------------------------------------------------------------------------------


def make_dataset(events: int) -> Dataset:
    ids = [str(uuid.uuid4()) for _ in range(events)]
    digests = [hashlib.blake2b(event_id.encode(), digest_size=16).digest() for event_id in ids]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [(now - timedelta(hours=back)).strftime("%Y%m%d%H") for back in range(HOURS)]
    return Dataset(ids, digests, hours)


def run(port: int, data: Dataset, batch: int) -> tuple[list[Result], dict[str, float | None], str]:
    events = len(data.ids)
    with redis.Redis(port=port) as control:
        version = str(control.info("server")["redis_version"])
        cpu_before = server_cpu_s(control)
        baseline, timing = measure(control, PER_KEY, events, lambda: load_per_key_service(port, data, batch))
        timing.server_cpu_s = server_cpu_s(control) - cpu_before
        baseline.claim_timing = timing
        results = [baseline]
        plans: list[tuple[Layout, Callable[[], object]]] = [
            (PER_KEY_COMPACT, lambda: load_per_key(port, data.compact_keys(), 1, batch)),
            (SETS_UUID, lambda: load_hourly_sets(port, data, batch, data.ids)),
            (SETS_DIGEST, lambda: load_hourly_sets(port, data, batch, [d[:8] for d in data.digests])),
            (HASH_DIGEST, lambda: load_hourly_hashes(port, data, batch)),
            (INTSET_SHARDS, lambda: load_intset_shards(port, data, batch)),
        ]
        for layout, load in plans:
            console.print(f"[dim]loading {layout.name} ...[/dim]")
            results.append(measure(control, layout, events, load)[0])
        control.flushall(asynchronous=False)
        server = {
            "unpipelined": run_redis_benchmark(port, min(events, 200_000), 1),
            "pipelined x32": run_redis_benchmark(port, events, 32),
        }
    return results, server, version


def run_cluster_mode(binary: str, data: Dataset, batch: int) -> Result:
    """The service's layout once more on a cluster-enabled node, whose keys carry slot links."""
    keys = [dedup_key(PROJECT, event_id) for event_id in data.ids]
    with throwaway_redis(binary, cluster=True) as port, redis.Redis(port=port) as control:
        console.print(f"[dim]loading {PER_KEY_CLUSTER.name} ...[/dim]")
        result, _ = measure(
            control, PER_KEY_CLUSTER, len(keys), lambda: load_per_key(port, keys, ACCEPTED, batch)
        )
        return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000, help="events per layout (default 1,000,000)")
    parser.add_argument("--batch", type=int, default=5_000, help="commands per pipeline (default 5,000)")
    parser.add_argument(
        "--usable-gb",
        type=float,
        default=64.0,
        help="maxmemory one Redis can give the dedup window (default 64: a host with >= 96 GB RAM, "
        "leaving room for fragmentation, fork copy-on-write and replication buffers)",
    )
    parser.add_argument(
        "--cluster",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the service's layout on a cluster-enabled node (default: yes)",
    )
    parser.add_argument(
        "--redis-server", default="redis-server", help="redis-server binary (default: on PATH)"
    )
    args = parser.parse_args(argv)
    if args.keys < HOURS * 10 or args.batch < 100:
        parser.error(f"--keys must be at least {HOURS * 10} and --batch at least 100")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    data = make_dataset(args.keys)
    try:
        with throwaway_redis(args.redis_server) as port:
            results, server, version = run(port, data, args.batch)
        if args.cluster:
            results.insert(1, run_cluster_mode(args.redis_server, data, args.batch))
    except BenchError as exc:
        Console(stderr=True).print(f"[red]dedup_memory: {exc}[/red]")
        return 2
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    console.print(
        f"Redis {version}, {os.cpu_count()} cores, Python {platform.python_version()}, {when}, "
        f"{args.keys:,} events per layout, took {time.perf_counter() - started:.0f} s"
    )
    console.print(memory_table(results))
    console.print(breakdown_table(results))
    console.print(throughput_table(results[0], server, args.batch))
    console.print(projection_table(results, args.usable_gb))
    console.print(collision_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
