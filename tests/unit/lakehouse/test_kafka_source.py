"""How many tasks a batch is read in: one for a few records, more as records grow, a few per core
at most."""

from __future__ import annotations

import pytest

from analytics_pipeline.lakehouse.kafka_source import RECORDS_PER_TASK, TASKS_PER_CORE, batch_tasks


@pytest.mark.parametrize(
    ("records", "tasks"),
    [
        (0, 1),
        (42, 1),
        (RECORDS_PER_TASK, 1),
        (RECORDS_PER_TASK + 1, 2),
        (3 * RECORDS_PER_TASK, 3),
        (55_000, 2 * TASKS_PER_CORE),  # capped on 2 cores
        (10**7, 2 * TASKS_PER_CORE),
    ],
)
def test_tasks_follow_the_records_up_to_a_few_per_core(records, tasks):
    assert batch_tasks(records, parallelism=2) == tasks


def test_more_cores_take_more_tasks():
    assert batch_tasks(10**7, parallelism=8) == 8 * TASKS_PER_CORE
