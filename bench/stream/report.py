"""The rich tables the benchmark prints, one per question a reader has; nothing here measures."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence

from rich.table import Table

from bench.common import Result
from bench.stream.lag import LagRun, LagSample
from bench.stream.probes import CpuUse
from bench.stream.worker_run import WorkerStats

BOUNDED_LAG_S = 2.0  # lag is "bounded" if the final lag is under this many seconds of events
SPARK = "▁▂▃▄▅▆▇█"


def throughput_table(results: list[Result], baseline_a: Result, baseline_b: Result, commands: int) -> Table:
    floor = min(baseline_a.rate, baseline_b.rate)
    table = Table(title=f"stream throughput over the same {baseline_a.events:,} raw events")
    for column in ("path", "events", "seconds", "events/s", "vs min(A, B)", "vs A", "vs B"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for result in results:
        table.add_row(
            result.name,
            f"{result.events:,}",
            f"{result.seconds:.2f}",
            f"{result.rate:,.0f}",
            f"{result.rate / floor:.2f}x",
            f"{result.rate / baseline_a.rate:.2f}x",
            f"{result.rate / baseline_b.rate:.2f}x",
        )
    table.caption = f"baseline B issued {commands / baseline_b.events:.1f} Redis commands per event"
    return table


def worker_table(phases: list[tuple[str, WorkerStats]]) -> Table:
    table = Table(title="the worker's own metrics per batch (prometheus registry)")
    table.caption = (
        "DLQ: dead-lettered; closed: events not counted at a granularity whose window had expired (1m: 2 min)"
    )
    columns = ("run", "batches", "rec/batch", "mean ms", "p95 ms <=", "µs/event", "applied")
    columns += ("duplicates", "DLQ", "closed", "retries", "commit fails")
    for column in columns:
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, stats in phases:
        per_batch = stats.batch_seconds / stats.batches if stats.batches else 0.0
        p95 = f"{stats.p95_le * 1000:,.0f}" if stats.p95_le is not None else "-"
        table.add_row(
            name,
            f"{stats.batches:,}",
            f"{stats.records / stats.batches:,.0f}" if stats.batches else "-",
            f"{per_batch * 1000:,.1f}",
            p95,
            f"{stats.batch_seconds / stats.records * 1e6:,.0f}" if stats.records else "-",
            f"{stats.applied:,}",
            f"{stats.duplicates:,}",
            f"{stats.dead_lettered:,}",
            f"{stats.closed:,}",
            f"{stats.retries:,}",
            f"{stats.commit_failures:,}",
        )
    return table


def cpu_table(rows: list[tuple[str, CpuUse, int]]) -> Table:
    """Cores busy per process (CPU s / wall s) in each measured stretch, and this process's cost per event."""
    table = Table(title=f"CPU: cores busy during each run ({os.cpu_count()} cores on this machine)")
    table.caption = (
        "this process runs the measured client (bare consumer, Redis pipeline or worker); "
        "others: every other process on the machine"
    )
    names = ("this process", "producer", "Redis", "Kafka")
    for column in ("run", "wall s", *names, "total", "others", "this process µs/event handled"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, use, events in rows:
        total = sum(use.seconds.values()) / use.wall_s
        per_event = use.seconds["this process"] / events * 1e6
        cells = [use.cores(process) for process in names]
        others = f"{use.others_cores:.2f}"
        table.add_row(name, f"{use.wall_s:.1f}", *cells, f"{total:.2f}", others, f"{per_event:,.0f}")
    return table


def exactly_once_table(checks: list[tuple[str, int, int]]) -> Table:
    table = Table(title="every event applied exactly once")
    for column in ("check", "expected", "found", ""):
        table.add_column(column, justify="left" if column == "check" else "right")
    for name, expected, found in checks:
        table.add_row(name, f"{expected:,}", f"{found:,}", "ok" if expected == found else "MISMATCH")
    return table


def sparkline(values: Sequence[int]) -> str:
    top = max(values) or 1
    return "".join(SPARK[min(len(SPARK) - 1, value * len(SPARK) // (top + 1))] for value in values)


def lag_interval_table(lag: LagRun, every_s: int = 10) -> Table:
    """One row per ``every_s`` seconds: rates within the interval, lag at its end and its peak."""
    table = Table(title=f"lag samples, every {every_s} s and at the producer's end")
    for column in ("t s", "produced/s", "worker/s", "lag at t", "lag at t (s)", "max lag in interval"):
        table.add_column(column, justify="right")
    previous, last = LagSample(0.0, 0, 0, 0), lag.samples[-1]
    marks = [
        s
        for s in lag.samples
        if round(s.at_s) % every_s == 0 and 0 < s.at_s <= last.at_s - 1  # not a tick just before the end
    ]
    marks.append(last)
    for mark in marks:
        window = [s.lag for s in lag.samples if previous.at_s < s.at_s <= mark.at_s]
        span = mark.at_s - previous.at_s
        table.add_row(
            f"{mark.at_s:.0f}",
            f"{(mark.produced - previous.produced) / span:,.0f}",
            f"{(mark.consumed - previous.consumed) / span:,.0f}",
            f"{mark.lag:,}",
            f"{mark.lag / lag.produce_rate:.2f}",
            f"{max(window, default=mark.lag):,}",
        )
        previous = mark
    return table


def lag_summary_table(lag: LagRun, target_rate: float) -> Table:
    lags = lag.lags
    quantiles = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else lags * 99
    end_lag, rate = lag.samples[-1].lag, lag.produce_rate
    bounded = end_lag < BOUNDED_LAG_S * rate
    drain = f"{lag.drain_s:.1f} s" if lag.drain_s is not None else "not within 30 s"
    rows = [
        ("producer (separate process)", f"{rate:,.0f} ev/s achieved, target {target_rate:,.0f}"),
        ("worker during the run", f"{lag.worker_rate:,.0f} ev/s ({lag.worker_rate / rate:.2f}x produce)"),
        ("run", f"{lag.seconds:.1f} s, {lag.samples[-1].produced:,} events"),
        ("max lag", f"{max(lag.lags):,} records = {max(lag.lags) / rate:.2f} s"),
        ("lag p50 / p95", f"{quantiles[49]:,.0f} / {quantiles[94]:,.0f} records"),
        ("lag at the end", f"{end_lag:,} records = {end_lag / rate:.2f} s"),
        ("drained after the producer stopped", drain),
        (f"bounded (end lag < {BOUNDED_LAG_S:g} s of events)", "yes" if bounded else "NO"),
        ("lag, 1 s samples", sparkline(lag.lags)),
    ]
    if lag.producer_exit:
        rows.append(("producer exit code", f"{lag.producer_exit} (see its stderr above)"))
    table = Table(title="consumer lag under a steady stream", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for row in rows:
        table.add_row(*row)
    return table
