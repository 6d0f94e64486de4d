"""The transient progress bar every phase shows while it runs, kept out of the printed output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from bench.common import console


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """Transient: the bar is for watching; the tables and summary lines are the output."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
    )
    live = console.is_terminal
    with Progress(
        *columns, console=console, transient=True, refresh_per_second=4, disable=not live
    ) as progress:
        yield progress
