"""Processes that start together (the ingestion API's workers) all get a metadata engine on a
fresh SQLite file, though each one's ``create_all`` races the others'."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import inspect

from analytics_pipeline.metadata.engine import create_metadata_engine

STARTERS = 6


def _start(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait(10)
    create_metadata_engine(url).dispose()


def test_processes_starting_together_all_get_the_tables(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(STARTERS)
    starters = [context.Process(target=_start, args=(url, barrier)) for _ in range(STARTERS)]
    for process in starters:
        process.start()
    for process in starters:
        process.join(60)
    assert [process.exitcode for process in starters] == [0] * STARTERS
    assert {"projects", "api_keys"} <= set(inspect(create_metadata_engine(url)).get_table_names())
