"""What ``analytics generate`` shows: a live progress bar while sending, a summary table after."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Self

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics_pipeline.sdk import BatchOutcome

if TYPE_CHECKING:
    from analytics_pipeline.loadgen.runner import GeneratorSummary


class LiveProgress:
    """The bar counts settled events; ``on_result`` runs on the SDK's worker thread, ``sent`` on the caller's.

    Each counter has one writer thread, and rich's ``Progress.update`` takes its own lock.
    """

    def __init__(self, console: Console, total: int) -> None:
        self._progress = Progress(
            TextColumn("[bold]generate"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("sent {task.fields[sent]}"),
            TextColumn("[green]delivered {task.fields[delivered]}"),
            TextColumn("[cyan]duplicates {task.fields[duplicates]}"),
            TextColumn("[yellow]rejected {task.fields[rejected]}"),
            TextColumn("[red]failed {task.fields[failed]}"),
            TextColumn("{task.fields[rate]:,.0f} ev/s"),
            TimeElapsedColumn(),
            console=console,
        )
        self._task = self._progress.add_task(
            "generate", total=total, sent=0, delivered=0, duplicates=0, rejected=0, failed=0, rate=0.0
        )
        self._started = time.monotonic()
        self._settled = 0
        self._counts = {"delivered": 0, "duplicates": 0, "rejected": 0, "failed": 0}

    def sent(self, count: int) -> None:
        self._progress.update(self._task, sent=count)

    def on_result(self, outcome: BatchOutcome) -> None:
        self._settled += outcome.size
        self._counts["delivered"] += len(outcome.accepted)
        self._counts["duplicates"] += len(outcome.duplicates)
        self._counts["rejected"] += len(outcome.rejected)
        self._counts["failed"] += len(outcome.failed)
        rate = self._settled / max(time.monotonic() - self._started, 1e-9)
        self._progress.update(self._task, completed=self._settled, rate=rate, **self._counts)

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()


def summary_table(summary: GeneratorSummary) -> Table:
    table = Table(title="analytics generate", show_header=True)
    table.add_column("")
    table.add_column("events", justify="right")
    for event_type, count in sorted(summary.by_type.items(), key=lambda item: -item[1]):
        table.add_row(event_type, f"{count:,}")
    table.add_section()
    for label, value in (
        ("sent", summary.sent),
        ("[green]delivered", summary.delivered),
        ("[cyan]duplicates", summary.duplicates),
        ("[yellow]rejected", summary.rejected),
        ("[red]failed", summary.failed),
        ("retries", summary.retries),
    ):
        table.add_row(label, f"{value:,}")
    table.add_section()
    table.add_row("elapsed", f"{summary.elapsed_s:.2f} s")
    table.add_row("rate", f"{summary.rate:,.0f} events/s")
    return table
