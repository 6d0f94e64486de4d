"""Marks every test under tests/integration as ``integration``; gives schemathesis' tests an id
each; runs the slow modules first, so that `make test`'s two processes end together."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(item.fspath).parents:
            item.add_marker(pytest.mark.integration)
        _one_id_per_operation(item)
    repeated = [nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1]
    if repeated:  # pytest-xdist would run one test of each id and drop the others without a word
        raise pytest.UsageError(f"tests share a node id: {', '.join(repeated[:5])}")
    _slow_modules_first(items)


def _one_id_per_operation(item: pytest.Item) -> None:
    """Under pytest 9, schemathesis 4.32 gives every operation of a parametrized test the same
    node id (``test_openapi_contract``); pytest-xdist keys its work by node id, so it would run
    one operation of each and drop the others without a word."""
    parent, base = item.parent, item.nodeid.rsplit("::", 1)[-1]
    if parent is not None and item.id.params is None and item.name.startswith(base + "["):
        item._id = parent.id.child(base).with_params(item.name[len(base) + 1 : -1])


def _slow_modules_first(items: list[pytest.Item]) -> None:
    """pytest-xdist (``--dist loadfile --no-loadscope-reorder``) hands out whole modules in
    collection order: the long ones first, or the last one to start keeps one process busy alone
    at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
