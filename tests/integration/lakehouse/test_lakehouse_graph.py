"""The Dagster graph in-process on real Kafka and Spark: kafka_batch_etl then daily_metrics,
every table and metric against an independent computation of the generated load."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from analytics_pipeline.timeutil import utc_now
from tests.support.lake_load import PURCHASE_SCHEMA, LakeLoad
from tests.support.lakehouse_dagster import LakeGraph

pytestmark = pytest.mark.integration


@pytest.fixture
def graph(stack_settings, tmp_path, spark) -> LakeGraph:
    return LakeGraph(stack_settings, tmp_path / "lake")


@pytest.fixture
def shop_and_blog(make_project, metadata_store):
    shop, blog = make_project("shop"), make_project("blog")
    metadata_store.register_schema(shop.project_id, "purchase", PURCHASE_SCHEMA)
    return [shop.project_id, blog.project_id]


def past_days(n: int):
    today = utc_now().date()
    return [today - timedelta(days=k) for k in range(n, 0, -1)]


def test_the_graph_turns_a_generated_load_into_exact_tables_and_metrics(
    graph, spark, shop_and_blog, stack_settings
):
    days = past_days(3)
    load = LakeLoad(stack_settings.kafka_bootstrap_servers, with_schema={shop_and_blog[0]})
    load.mixed(shop_and_blog, days, events=400)
    load.flush()

    etl = graph.run_etl(graph.pending(shop_and_blog))

    assert etl.success
    assert graph.checks(etl) == {
        "batch_reconciliation": True,
        "bronze_expectations": True,
        "envelope_expectations": True,
        "purchase_expectations": True,
    }
    for day in days:
        assert graph.run_daily(day).success
    metrics = {
        (r.metricDate, r.projectId): r
        for r in spark.read.format("delta")
        .load(graph.defs.resources["lakehouse"].tables.daily_metrics)
        .collect()
    }
    expected = load.expected.metrics
    assert set(metrics) == set(expected)
    for key, want in expected.items():
        got = metrics[key]
        assert (got.events, got.dailyActiveUsers, got.purchases) == (
            want.events,
            len(want.users),
            want.purchases,
        ), key
        assert dict(got.eventsByType) == dict(want.by_type), key
        assert {c: Decimal(v) for c, v in got.revenueByCurrency.items()} == dict(want.revenue), key
