"""ProjectLake over real Delta tables (written with delta-rs): a table deleted and written again
in its folder (the lake lost, then restored) is read as the new table, never as the new log
applied on top of the old table's state, and it is named apart in the answer cache's key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.query.lake_views import LakeTableMissing, ProjectLake

TABLE = "daily_metrics"
NAMES = frozenset({TABLE})


def write(path: str, *metrics: str, project: str = "shop") -> None:
    rows = pa.table({"projectId": [project] * len(metrics), "metric": list(metrics)})
    write_deltalake(path, rows, mode="append")


def metrics(lake: ProjectLake, project: str = "shop") -> list[str]:
    return sorted(lake.views(project, NAMES)[TABLE].to_table().column("metric").to_pylist())


@pytest.fixture
def tables(tmp_path: Path) -> LakeTables:
    return LakeTables(str(tmp_path / "lake"))


@pytest.mark.parametrize("commits_after", [1, 2, 4], ids=["fewer versions", "as many", "more"])
def test_a_table_written_again_in_its_folder_is_read_as_the_new_table(tables: LakeTables, commits_after: int):
    path = tables.daily_metrics
    for old in ("a", "b"):
        write(path, old)
    lake = ProjectLake(tables, version_ttl_s=0)
    assert metrics(lake) == ["a", "b"]
    before = lake.versions(NAMES)[TABLE]
    assert before.version == 1

    shutil.rmtree(path)
    new = [f"new-{i}" for i in range(commits_after)]
    for metric in new:
        write(path, metric)

    after = lake.versions(NAMES)[TABLE]
    assert after.table_id != before.table_id, "another table, whatever its version"
    assert after.version == commits_after - 1
    assert metrics(lake) == new, "only the new table's rows, read from files that exist"
    write(path, "later")
    assert metrics(lake) == sorted([*new, "later"]), "and it is brought up to date from then on"


def test_a_table_deleted_and_not_written_again_is_missing_not_served_stale(tables: LakeTables):
    write(tables.daily_metrics, "a")
    lake = ProjectLake(tables, version_ttl_s=0)
    assert metrics(lake) == ["a"]

    shutil.rmtree(tables.daily_metrics)

    with pytest.raises(LakeTableMissing, match="has no data yet"):
        lake.versions(NAMES)
    write(tables.daily_metrics, "b")
    assert metrics(lake) == ["b"]


def test_each_project_sees_its_rows_only(tables: LakeTables):
    write(tables.daily_metrics, "a", project="shop")
    write(tables.daily_metrics, "z", project="blog")
    lake = ProjectLake(tables, version_ttl_s=0)
    assert metrics(lake, "shop") == ["a"]
    assert metrics(lake, "blog") == ["z"]
