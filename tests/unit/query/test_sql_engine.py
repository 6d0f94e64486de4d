"""run_query: DuckDB over the views it is given and nothing else, within its limits; values come
back as JSON carries them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest

from analytics_pipeline.query.sql_engine import QueryLimits, json_value, run_query
from analytics_pipeline.query.sql_guard import SqlRefused

LIMITS = QueryLimits(time_s=5, max_rows=100)


@pytest.fixture
def lake(tmp_path: Path) -> pads.Dataset:
    """Two projects' events as parquet files; the view is project a's rows only."""
    table = pa.table(
        {
            "projectId": ["a"] * 3 + ["b"] * 2,
            "eventId": ["a1", "a2", "a3", "b1", "b2"],
            "timestamp": pa.array(
                [datetime(2026, 12, 1, h, tzinfo=UTC) for h in (1, 2, 23, 4, 5)], pa.timestamp("us", "UTC")
            ),
        }
    )
    pads.write_dataset(table, tmp_path / "events", format="parquet")
    return pads.dataset(tmp_path / "events", format="parquet")


def project_view(dataset: pads.Dataset, project_id: str) -> pads.Dataset:
    return dataset.filter(pc.field("projectId") == project_id)


def test_the_view_holds_only_the_project_s_rows_whatever_the_sql(lake: pads.Dataset):
    views = {"events": project_view(lake, "a")}
    assert run_query(views, "SELECT count(*) AS n FROM events", LIMITS).rows == [[3]]
    assert run_query(views, "SELECT count(*) FROM events WHERE projectId = 'b'", LIMITS).rows == [[0]]
    union = "SELECT eventId FROM events UNION SELECT eventId FROM events WHERE projectId <> 'a'"
    assert sorted(r[0] for r in run_query(views, union, LIMITS).rows) == ["a1", "a2", "a3"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('{path}/**/*.parquet')",
        "SELECT * FROM '{path}/**/*.parquet'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO '{path}/out.csv'",
        "ATTACH '{path}/other.db'",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SET threads = 64",
    ],
)
def test_files_extensions_and_settings_are_out_of_reach_even_past_the_parser(lake, tmp_path, sql):
    with pytest.raises(SqlRefused) as refused:
        run_query({"events": project_view(lake, "a")}, sql.format(path=tmp_path), LIMITS)
    assert refused.value.rule == "query"
    assert not (tmp_path / "out.csv").exists()


def test_python_variables_are_not_scanned_by_name(lake: pads.Dataset):
    other_project = project_view(lake, "b")  # noqa: F841 - DuckDB would find it by name if allowed
    with pytest.raises(SqlRefused, match="other_project"):
        run_query({"events": project_view(lake, "a")}, "SELECT * FROM other_project", LIMITS)


def test_a_query_over_the_time_limit_is_stopped_naming_the_rule(lake: pads.Dataset):
    slow = "SELECT count(*) FROM range(1000000000) a, range(1000) b"
    with pytest.raises(SqlRefused) as refused:
        run_query({}, slow, QueryLimits(time_s=0.3, max_rows=10))
    assert refused.value.rule == "time_limit"
    assert "ANALYTICS_QUERY_TIME_LIMIT_S" in refused.value.message


def test_an_answer_over_the_row_limit_is_refused_naming_the_rule():
    with pytest.raises(SqlRefused) as refused:
        run_query({}, "SELECT * FROM range(11)", QueryLimits(time_s=5, max_rows=10))
    assert refused.value.rule == "row_limit"
    assert run_query({}, "SELECT * FROM range(10)", QueryLimits(time_s=5, max_rows=10)).rows[-1] == [9]


def test_days_and_hours_are_utc_whatever_the_machine_s_zone(lake: pads.Dataset, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    result = run_query(
        {"events": project_view(lake, "a")},
        "SELECT date_trunc('day', timestamp) AS day, count(*) AS n FROM events GROUP BY 1",
        LIMITS,
    )
    assert result.columns == ["day", "n"]
    assert result.rows == [["2026-12-01T00:00:00.000Z", 3]]


def test_values_come_back_as_json_carries_them():
    values = [
        datetime(2026, 12, 1, 10, tzinfo=UTC),
        date(2026, 12, 1),
        Decimal("12.500000"),
        b"\x00k",
        {"a": 1},
        [1.5, float("nan")],
    ]
    assert [json_value(v) for v in values] == [
        "2026-12-01T10:00:00.000Z",
        "2026-12-01",
        "12.500000",
        "AGs=",
        {"a": 1},
        [1.5, None],
    ]
    json.dumps([json_value(v) for v in values], allow_nan=False)
