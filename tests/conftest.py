"""Marks every test under tests/integration as ``integration``; gives schemathesis' tests an id
each; hands `make test`'s two processes their work: every test that runs Spark to one of them,
one after another, and each other module whole to whichever is free, the slow ones first."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId

INTEGRATION_DIR = Path(__file__).parent / "integration"


SPARK_GROUP = "spark"
CLUSTER_GROUP, CLUSTER_FIXTURE = "kafka-cluster", "cluster"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)
        _one_id_per_operation(item)
    repeated = [nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1]
    if repeated:  # pytest-xdist would run one test of each id and drop the others without a word
        raise pytest.UsageError(f"tests share a node id: {', '.join(repeated[:5])}")
    _spark_then_slow_modules_first(items)
    if getattr(config.option, "loadgroup", False):  # set in pytest-xdist's processes (--dist loadgroup)
        _name_work_units(items)


def _one_id_per_operation(item: pytest.Item) -> None:
    """Under pytest 9, schemathesis 4.32 gives every operation of a parametrized test the same
    node id (``test_openapi_contract``); pytest-xdist keys its work by node id, so it would run
    one operation of each and drop the others without a word."""
    parent, base = item.parent, item.nodeid.rsplit("::", 1)[-1]
    if parent is not None and item.id.params is None and item.name.startswith(base + "["):
        item._id = parent.id.child(base).with_params(item.name[len(base) + 1 : -1])


def _runs_spark(item: pytest.Item) -> bool:
    return item.get_closest_marker("spark") is not None or "spark" in getattr(item, "fixturenames", ())


def _work_unit(item: pytest.Item) -> str:
    """What one process runs whole. Two Spark JVMs at once on 2 cores take turns for the CPU, and
    each Dagster or Spark test then runs up to three times as long as alone; so every test that
    runs Spark is one unit, run in turn while the other process runs the rest. The tests on the
    3-broker cluster are one unit too, Spark or not: the cluster is started once per process, and
    two clusters at once on 2 cores drop replicas out of sync (a failed run showed it)."""
    if CLUSTER_FIXTURE in getattr(item, "fixturenames", ()):
        return CLUSTER_GROUP
    return SPARK_GROUP if _runs_spark(item) else item.nodeid.split("::", 1)[0]


def _name_work_units(items: list[pytest.Item]) -> None:
    """pytest-xdist 3.8 names an item's group by assigning ``item._nodeid``, which pytest 9 no
    longer reads, so every test was a unit of its own and modules were split between the
    processes. The unit goes into the node id here instead (``path::test@unit``), which is what
    xdist's loadgroup scheduler reads."""
    for item in items:
        item._id = NodeId.parse(f"{item.nodeid}@{_work_unit(item)}")


def _spark_then_slow_modules_first(items: list[pytest.Item]) -> None:
    """pytest-xdist (``--dist loadgroup --no-loadscope-reorder``) hands out units in collection
    order: the long ones first, or the last one to start keeps one process busy alone at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: (not _runs_spark(item), item.path not in slow))
