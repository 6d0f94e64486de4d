"""Run a benchmark against private services (started in order, stopped in reverse whatever
happens, a ``BenchError`` reported in one line with exit status 2) and show its checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table

from analytics_pipeline.stack.services import StackService
from bench.ingest_throughput import console
from bench.throwaway_redis import BenchError


def run_with_services(services: Sequence[StackService], what: str, body: Callable[[], int]) -> int:
    try:
        with console.status(f"starting a private {what} ..."):
            for service in services:
                service.ensure_running()
        return body()
    except BenchError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    finally:
        for service in reversed(services):
            service.stop()


def print_checks(title: str, checks: Sequence[tuple[str, bool]]) -> bool:
    """Show each correctness check; True when every one passed (the run's exit status hangs on it)."""
    table = Table("check", "", title=title)
    for name, ok in checks:
        table.add_row(name, "ok" if ok else "[red]FAILED[/]")
    console.print(table)
    return all(ok for _, ok in checks)
