"""The tables of the steady-state bench: each batch, where the ETL's time went, and the goals."""

from __future__ import annotations

import statistics

from rich.table import Table

from bench.etl.steady import BatchTiming

FLAT_GOAL = 1.2  # cost per event of the last batches at most this times the first ones'
CEILING_GOAL = 0.8  # the ETL at least this share of the ceiling's events/s


def steady_table(timings: list[BatchTiming]) -> Table:
    table = Table(
        title="each batch into a growing lake (µs per record read; the paths take turns going first)"
    )
    columns = ("batch", "lake rows before", "rows compared", "records", "ETL s", "ETL µs/rec")
    for column in (*columns, "ceiling µs/rec", "judge floor µs/rec", "ETL / ceiling", "floor / ceiling"):
        table.add_column(column, justify="right")
    for t in timings:
        table.add_row(
            str(t.number),
            f"{t.lake_rows:,}",
            f"{t.compared:,}",
            f"{t.records:,}",
            f"{t.etl_s:.1f}",
            f"{t.etl_us:.0f}",
            f"{t.ceiling_us:.0f}",
            f"{t.floor_us:.0f}",
            f"{t.ceiling_s / t.etl_s:.2f}x",
            f"{t.ceiling_s / t.floor_s:.2f}x",
        )
    return table


def phases_table(timings: list[BatchTiming]) -> Table:
    """The ETL's phases (run_batch's own timings), median and range over the batches."""
    table = Table("phase", "median s", "range s", title="where the ETL's time went")
    for name in timings[0].phases:
        seconds = [t.phases[name] for t in timings]
        table.add_row(name, f"{statistics.median(seconds):.2f}", f"{min(seconds):.2f}-{max(seconds):.2f}")
    return table


def goals_table(timings: list[BatchTiming]) -> Table:
    """Batch 20 against batch 1, each as the median of three neighbouring batches (one batch alone
    is at the mercy of the 2 cores' neighbours), and the ETL against the ceiling over every batch;
    the judge floor shows how much of the ceiling a design that judges in Python can reach."""
    first, last = timings[:3], timings[-3:]
    growth = statistics.median(t.etl_us for t in last) / statistics.median(t.etl_us for t in first)
    share = statistics.median(t.ceiling_s / t.etl_s for t in timings)
    floor_share = statistics.median(t.ceiling_s / t.floor_s for t in timings)
    table = Table("goal", "measured", "", title="steady-state goals")
    table.add_row(
        f"cost per event, last 3 batches vs first 3 (medians), at most {FLAT_GOAL}x",
        f"{growth:.2f}x (batch {timings[-1].number} alone: {timings[-1].etl_us / timings[0].etl_us:.2f}x)",
        "met" if growth <= FLAT_GOAL else "[red]missed[/]",
    )
    table.add_row(
        f"ETL events/s vs the ceiling's on the same lake (median), at least {CEILING_GOAL}x",
        f"{share:.2f}x",
        "met" if share >= CEILING_GOAL else "[red]missed[/]",
    )
    table.add_row(
        "the judge floor vs the ceiling (median): the most a design judging in Python can reach",
        f"{floor_share:.2f}x",
        "",
    )
    return table
