"""The rich tables the benchmark prints, one per question a reader has; nothing here measures."""

from __future__ import annotations

import itertools
import os
import statistics

from rich.table import Table

from analytics_pipeline.settings import Settings
from bench.etl.cpu import KAFKA, SPARK
from bench.etl.freshness import FRESHNESS, LAUNCH, POOL, WAIT, WORK, FreshnessRun
from bench.etl.throughput import BASELINE, CEILING, ETL, PHASES, Round
from bench.etl.workload import EtlLoad

GOAL = 0.60  # the goal: the ETL at least 60 % of the baseline's events/s
FRESH_MEDIAN_S, FRESH_MAX_S = 30.0, 60.0  # issue 14 §3: 202 -> queryable, p50 and max, via the daemon


def median_rate(rounds: list[Round], path: str) -> float:
    return statistics.median(r.rate for r in rounds if r.path == path)


def rounds_table(rounds: list[Round]) -> Table:
    table = Table(title=f"every round, in the order run ({os.cpu_count()} cores on this machine)")
    table.caption = (
        f"cores busy = CPU s / wall s; {SPARK}: this process, the Spark JVM and its Python workers; "
        "others: every other process on the machine"
    )
    columns = ("round", "path", "records", "seconds", "events/s", SPARK, KAFKA, "others")
    for column in columns:
        table.add_column(column, justify="left" if column == "path" else "right")
    for r in rounds:
        table.add_row(
            str(r.number),
            r.path,
            f"{r.records:,}",
            f"{r.seconds:.1f}",
            f"{r.rate:,.0f}",
            r.cpu.cores(SPARK),
            r.cpu.cores(KAFKA),
            f"{r.cpu.others_cores:.2f}",
        )
    return table


def throughput_table(rounds: list[Round]) -> Table:
    baseline, ceiling, etl = (median_rate(rounds, path) for path in (BASELINE, CEILING, ETL))
    ratio = etl / baseline
    count = sum(1 for r in rounds if r.path == ETL)
    table = Table(title=f"events/s from Kafka into validated_events: median of {count} rounds each")
    table.caption = (
        "events/s = Kafka records read / wall seconds; the same offset ranges in every round. "
        "ceiling: Spark's own JSON reader, no check, the same two Delta writes: the most any ETL "
        "that writes bronze and validated_events could reach on this machine"
    )
    for column in ("path", "events/s", "vs baseline", "vs ceiling"):
        table.add_column(column, justify="left" if column == "path" else "right")
    table.add_row(f"{BASELINE} (same session, same offsets)", f"{baseline:,.0f}", "1.00x", "")
    table.add_row(CEILING, f"{ceiling:,.0f}", f"{ceiling / baseline:.2f}x", "1.00x")
    table.add_row(
        f"{ETL} (bronze + validated + quarantine)", f"{etl:,.0f}", f"{ratio:.2f}x", f"{etl / ceiling:.2f}x"
    )
    verdict = "[green]met[/green]" if ratio >= GOAL else "[red]NOT met[/red]"
    reachable = "" if ceiling / baseline >= GOAL else f" (the ceiling itself is {ceiling / baseline:.0%})"
    table.add_row(f"goal: ETL >= {GOAL:.0%} of the baseline", "", f"{ratio:.0%}: {verdict}{reachable}", "")
    return table


def split_table(rounds: list[Round], cold: Round) -> Table:
    """Where an ETL round's wall time goes, per phase of run_batch; and where a cold run's goes."""
    etl = [r for r in rounds if r.path == ETL]
    table = Table(title="where the ETL's time goes (wall seconds per phase of run_batch)")
    table.caption = (
        f"cold: the untimed warm-up over {cold.records:,} records, the session's first run_batch, as in "
        "every run the Dagster daemon launches (each in a new process). "
        f"{PHASES[0]}: the first action (the count by verdict) reads the ranges, parses every record in "
        "Python (an Arrow UDF) and caches it; the writes read the cache. The keys collect deduplicates "
        "the days and projects the batch touches, from the cache. "
        "Jobs / tasks: Spark's, in the last round"
    )
    table.add_column("phase", justify="left")
    table.add_column("cold", justify="right")
    for r in etl:
        table.add_column(f"round {r.number}", justify="right")
    for column in ("median", "share", "jobs", "tasks"):
        table.add_column(column, justify="right")
    total = statistics.median(r.seconds for r in etl)
    for phase in PHASES:
        values = [r.phases[phase].seconds for r in etl]
        median = statistics.median(values)
        last = etl[-1].phases[phase]
        cells = [f"{cold.phases[phase].seconds:.1f}", *(f"{v:.1f}" for v in values), f"{median:.1f}"]
        table.add_row(phase, *cells, f"{median / total:.0%}", f"{last.jobs}", f"{last.tasks:,}")
    cells = [f"{cold.seconds:.1f}", *(f"{r.seconds:.1f}" for r in etl), f"{total:.1f}"]
    jobs = sum(p.jobs for p in etl[-1].phases.values())
    tasks = sum(p.tasks for p in etl[-1].phases.values())
    table.add_row("total", *cells, "100%", f"{jobs}", f"{tasks:,}")
    return table


def etl_checks(rounds: list[Round], load: EtlLoad) -> list[tuple[str, int, int]]:
    """Every ETL round did all the work: the counts its report gives against those of the load."""
    expected = load.expected
    checks = []
    for r in rounds:
        if r.report is None:
            continue
        report = r.report
        checks += [
            (f"round {r.number}: bronze rows = records", load.records, report.bronze_added),
            (f"round {r.number}: validated rows = unique valid events", expected.valid_events,
             report.validated_added),
            (f"round {r.number}: repeats dropped (not inserted)", expected.valid_repeats,
             report.duplicates_dropped),
            (f"round {r.number}: quarantined = schema failures", expected.invalid, report.quarantine_added),
        ]  # fmt: skip
    return checks


def freshness_table(run: FreshnessRun) -> Table:
    """Freshness and its parts, each as min / median / max over the samples."""
    title = f"end-to-end freshness: 202 -> queryable in validated_events ({len(run.landed)} events)"
    table = Table(title=title)
    table.caption = (
        "queryable: the timestamp of the validated_events commit that first holds the event; "
        "requested / started: the run's creation and start times in Dagster; "
        f"a warm-up event before them (the stack's first batch, its tables created) took {run.cold_s:.1f} s"
    )
    for column in ("seconds", "min", "median", "max"):
        table.add_column(column, justify="left" if column == "seconds" else "right")
    parts = run.components()
    for name, values in parts.items():
        table.add_row(name, *(f"{v:.1f}" for v in (min(values), statistics.median(values), max(values))))
    median, worst = statistics.median(parts[FRESHNESS]), max(parts[FRESHNESS])
    verdict = "[green]met[/green]" if freshness_met(run) else "[red]missed[/red]"
    table.add_row(
        f"goal: median <= {FRESH_MEDIAN_S:g} s, max <= {FRESH_MAX_S:g} s",
        "",
        f"{median:.1f}",
        f"{worst:.1f}: {verdict}",
    )
    return table


def freshness_met(run: FreshnessRun) -> bool:
    freshness = run.components()[FRESHNESS]
    return statistics.median(freshness) <= FRESH_MEDIAN_S and max(freshness) <= FRESH_MAX_S


def runs_table(run: FreshnessRun) -> Table:
    table = Table(title="the kafka_batch_etl runs the daemon launched")
    table.caption = (
        "requested: seconds after the first 202; status when the last sample landed (a run goes on "
        "with reconciliation and quality checks after its validated commit, outside the lake pool)"
    )
    columns = ("run", "status", "records", "requested", "queue + launch", "lake pool", "step -> commit")
    columns = (*columns, "samples")
    for column in (*columns, "freshness"):
        table.add_column(column, justify="left" if column in {"run", "status"} else "right")
    for etl in run.runs:
        landed = [x for x in run.landed if x.run_id == etl.run_id]
        spans = landed[0].spans() if landed else None
        freshness = [x.freshness for x in landed]
        table.add_row(
            etl.run_id[:8],
            etl.status,
            f"{etl.records:,}" if etl.records is not None else "-",
            f"{etl.created - run.origin:.1f}",
            # from the run itself, so that a run that never committed still shows how far it got
            _seconds_between(etl.created, etl.started),
            _seconds_between(etl.started, etl.writing),
            f"{spans[3]:.1f}" if spans else "-",
            f"{len(landed)}",
            f"{min(freshness):.1f}-{max(freshness):.1f}" if freshness else "-",
        )
    return table


def _seconds_between(start: float | None, end: float | None) -> str:
    return f"{end - start:.1f}" if start is not None and end is not None else "-"


def model_table(run: FreshnessRun, settings: Settings, rate: float) -> Table:
    """Freshness as the settings predict it, beside what was measured."""
    interval, max_wait = settings.etl_sensor_interval_s, settings.etl_max_wait_s
    parts = run.components()
    launch, pool, work = (statistics.median(parts[k]) if parts[k] else 0.0 for k in (LAUNCH, POOL, WORK))
    oldest = [max(waits) for waits in run.waits_by_run().values()]
    gaps = [b.created - a.created for a, b in itertools.pairwise(run.runs)]
    spark = (
        f"a session on the stack's Spark Connect server ({settings.spark_connect_url})"
        if settings.spark_connect_url
        else "a new Spark JVM of the run's own"
    )
    rows = [
        (
            "settings",
            f"sensor interval {interval} s, max wait {max_wait:g} s, batch size "
            f"{settings.etl_batch_size:,} (a load of {rate:g} events/s never reaches it)",
        ),
        (
            "wait for a run",
            f"a run is requested at the first tick >= {max_wait:g} s after the tick that first saw "
            f"pending records, and only while no other ETL run waits (queued, launching, or at the "
            f"lake pool): it then takes everything pending. Measured, oldest per run: {_range(oldest)}; "
            f"all: {_range(parts[WAIT])}",
        ),
        (
            "then",
            f"queue + process launch (median {launch:.1f} s; one run is launched ahead while another "
            f"writes), the lake pool (median {pool:.1f} s: the batch before it is being written), then "
            f"{spark}, and run_batch up to the validated_events commit (median {work:.1f} s); the "
            "run's checks come after, outside the pool",
        ),
        ("so freshness", f"measured {_range(parts[FRESHNESS])}"),
        (
            "runs under a steady load",
            f"one every {statistics.median(gaps):.0f} s"
            if gaps
            else "one run: a longer load (--freshness-seconds) shows the cycle",
        ),
    ]
    table = Table(title="freshness explained by the settings", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for row in rows:
        table.add_row(*row)
    return table


def _range(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f}-{max(values):.1f} s, median {statistics.median(values):.1f} s"
