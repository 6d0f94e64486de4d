"""The tables `python -m bench.dedup_memory` prints: memory per layout, where the bytes go, claim
throughput, 24 h projections and digest collision odds."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.table import Table

from bench.dedup_constants import DAY_S, GB, INTSET_FILL, PENDING_TTL_S, RATES

if TYPE_CHECKING:
    from dedup_memory import Result


def memory_table(results: list[Result]) -> Table:
    base = results[0].per_event
    table = Table(title=f"Redis memory per deduplicated event ({results[0].events:,} events, used_memory)")
    for column in ("layout", "Redis structure", "encoding", "bytes/event", "vs per-key", "expiry"):
        table.add_column(column, justify="right" if column in ("bytes/event", "vs per-key") else "left")
    for result in results:
        layout = result.layout
        ratio = f"{result.per_event / base:.2f}x"
        bytes_cell = f"{result.per_event:,.1f}"
        table.add_row(layout.name, layout.structure, result.encodings, bytes_cell, ratio, layout.expiry)
    return table


def breakdown_table(results: list[Result]) -> Table:
    table = Table(title="Where the bytes go: jemalloc small allocations added per event, and the rest")
    table.add_column("layout")
    table.add_column("small allocations (count x size class in B)")
    table.add_column("small B", justify="right")
    table.add_column("rest B: large allocs (bucket arrays)", justify="right")
    for result in results:
        events = result.events
        counts = [
            f"{grown / size / events:.2f} x {size}"
            for size, grown in sorted(result.small.items())
            if abs(grown) / size / events >= 0.01
        ]
        small_b = sum(result.small.values()) / events
        rest_b = result.per_event - small_b
        table.add_row(result.layout.name, ", ".join(counts), f"{small_b:.1f}", f"{rest_b:.1f}")
    return table


def throughput_table(baseline: Result, server: dict[str, float | None], batch: int) -> Table:
    timing = baseline.claim_timing
    assert timing is not None
    events = baseline.events
    table = Table(title="Throughput of the per-key claim")
    table.add_column("what")
    table.add_column("events/s", justify="right")
    table.add_column("bound by")
    client = f"client: 1 Python process, async redis-py, pipelines of {batch:,}"
    table.add_row(
        f"claim (SET NX GET EX {PENDING_TTL_S}), Deduplicator.claim",
        f"{events / timing.claim_s:,.0f}",
        client,
    )
    table.add_row(
        "confirm (SET XX EX 86400), Deduplicator.confirm", f"{events / timing.confirm_s:,.0f}", client
    )
    both = events / (timing.claim_s + timing.confirm_s)
    table.add_row("claim + confirm, per event", f"{both:,.0f}", client)
    cpu = events / timing.server_cpu_s if timing.server_cpu_s else float("nan")
    table.add_row(
        "claim + confirm per s of server CPU", f"{cpu:,.0f}", "server CPU seen in INFO cpu, same run"
    )
    for mode, rate in server.items():
        shown = "n/a" if rate is None else f"{rate:,.0f}"
        table.add_row(f"claim, redis-benchmark -c 50, {mode}", shown, "server + C client sharing the cores")
    return table


def projection_table(results: list[Result], usable_gb: float) -> Table:
    table = Table(
        title=f"24 h dedup window: memory (GB = 10^9 B) and the ceiling of one {usable_gb:g} GB Redis"
    )
    table.add_column("layout")
    for rate in RATES:
        table.add_column(f"{rate:,}/s", justify="right")
    table.add_column(f"max events/s in {usable_gb:g} GB", justify="right")
    for result in results:
        cells = [f"{result.per_event * rate * DAY_S / GB:,.1f}" for rate in RATES]
        ceiling = usable_gb * GB / (result.per_event * DAY_S)
        table.add_row(result.layout.name, *cells, f"{ceiling:,.0f}")
    return table


def collision_table() -> Table:
    table = Table(title="Digest layouts: expected false duplicates (a new event answered 409) per day")
    table.add_column("digest")
    for rate in RATES:
        table.add_column(f"{rate:,}/s", justify="right")
    spaces: dict[str, Callable[[int], float]] = {
        "64-bit digest, (b) (c)": lambda rate: 2.0**64,
        "128-bit digest, per-key compact": lambda rate: 2.0**128,
        # the shard, picked by other hash bits, must match too, and the shard count grows with the rate
        "(d) 64-bit + shard choice": lambda rate: 2.0**64 * rate * 3_600 / INTSET_FILL,
    }
    for name, space in spaces.items():
        # a new event meets the rate x 24 h digests held: (rate x 86400)^2 / space false matches a day
        expected = [(rate * DAY_S) ** 2 / space(rate) for rate in RATES]
        table.add_row(name, *(f"{n:,.0f}" if n >= 1 else f"{n:.1g}" for n in expected))
    return table
