"""The lakehouse graph in-process over a private lake, for the tests of this folder."""

from __future__ import annotations

import pytest

from tests.support.lakehouse_dagster import LakeGraph


@pytest.fixture
def graph(stack_settings, tmp_path, spark) -> LakeGraph:
    return LakeGraph(stack_settings, tmp_path / "lake")
