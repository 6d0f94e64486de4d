"""check_query: one SELECT over the three tables passes, normalized; everything else is refused,
naming the rule."""

from __future__ import annotations

import pytest

from analytics_pipeline.query.sql_guard import SqlRefused, check_query


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("select count(*) from events", {"events"}),
        ("SELECT * FROM Events WHERE eventType = 'purchase'", {"events"}),
        ("with a as (select userId from events) select count(distinct userId) from a", {"events"}),
        ("select * from events union all select * from quarantined_events", {"events", "quarantined_events"}),
        (
            "select e.eventId from events e join daily_metrics d on e.eventDate = d.metricDate",
            {"events", "daily_metrics"},
        ),
        ("select 1 + 1", set()),
        ("(select eventId from events)", {"events"}),
        ("select * from events, lateral (select 1) as x(y)", {"events"}),
    ],
)
def test_one_select_over_the_tables_passes(sql: str, tables: set[str]):
    assert check_query(sql).tables == frozenset(tables)


def test_the_normalized_sql_ignores_case_spacing_and_comments():
    a = check_query("select COUNT(*)   from EVENTS -- how many\n where eventType='x'")
    b = check_query("SELECT count(*) FROM events /* same */ WHERE eventType = 'x'")
    assert a.sql == b.sql


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("selec 1", "syntax"),
        ("select 1 /* never closed", "syntax"),
        ("select 'never closed", "syntax"),
        ("/", "syntax"),
        ("select 1; select 2", "single_statement"),
        ("select * from events; drop table events", "single_statement"),
        ("delete from events", "read_only"),
        ("insert into events values (1)", "read_only"),
        ("update events set userId = 'x'", "read_only"),
        ("create table t as select 1", "read_only"),
        ("drop table events", "read_only"),
        ("alter table events add column x int", "read_only"),
        ("PRAGMA database_list", "read_only"),
        ("SET threads = 1", "read_only"),
        ("RESET threads", "read_only"),
        ("ATTACH 'other.db' AS other", "read_only"),
        ("DETACH other", "read_only"),
        ("COPY events TO '/tmp/x.csv'", "read_only"),
        ("INSTALL httpfs", "read_only"),
        ("LOAD httpfs", "read_only"),
        ("CALL pragma_version()", "read_only"),
        ("DESCRIBE events", "read_only"),
        ("SUMMARIZE events", "read_only"),
        ("with x as (insert into events values (1) returning *) select * from x", "read_only"),
        ("select * from read_parquet('/tmp/lake/**/*.parquet')", "table_function"),
        ("select * from read_csv_auto('/etc/passwd')", "table_function"),
        ("select * from duckdb_settings()", "table_function"),
        ("select * from glob('*')", "table_function"),
        ("select * from 'lake/validated_events/part-0.parquet'", "table"),
        ("select * from main.events", "table"),
        ("select * from memory.main.events", "table"),
        ("select * from validated_events", "table"),
        ("select * from bronze_events", "table"),
        ("select * from events where eventId in (select eventId from other_project_events)", "table"),
    ],
)
def test_everything_else_is_refused_naming_the_rule(sql: str, rule: str):
    with pytest.raises(SqlRefused) as refused:
        check_query(sql)
    assert refused.value.rule == rule
    assert refused.value.message
