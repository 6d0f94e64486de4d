"""What every benchmark shares: the console, a timed result, the error that stops a run, private
services started and always stopped, and the table of correctness checks its exit status hangs
on. Every benchmark runs as ``python -m bench.<name>``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from analytics_pipeline.stack.services import StackService

console = Console(width=None if sys.stdout.isatty() else 140)


class BenchError(Exception):
    """The benchmark could not run as intended; the message says what to do."""


@dataclass(frozen=True)
class Result:
    name: str
    events: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def run_with_services(services: Sequence[StackService], what: str, body: Callable[[], int]) -> int:
    try:
        with console.status(f"starting a private {what} ..."):
            for service in services:
                service.ensure_running()
        return body()
    except BenchError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        for service in services:  # what still answered, and where each one's log is
            state = "healthy" if service.healthy() else "[red]not answering[/]"
            console.print(f"  {service.name} at {service.address}: {state} (log: {service.process.log_file})")
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
