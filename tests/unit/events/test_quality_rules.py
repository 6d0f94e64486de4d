"""The row-level quality rules: what each breaks, named as the GX suites name it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.events.quality_rules import DEFAULT_CURRENCIES, QualityRules, purchase_fields

RECEIVED = datetime(2026, 11, 26, 12, tzinfo=UTC)
RULES = QualityRules(DEFAULT_CURRENCIES, max_age=timedelta(days=30), max_future=timedelta(hours=1))


def broken(
    event_type: str = "purchase", properties: object = None, offset: timedelta = timedelta()
) -> list[str]:
    sent = {"amount": 5, "currency": "EUR"} if properties is None else properties
    return RULES.broken(event_type, sent, RECEIVED + offset, RECEIVED)


def test_a_good_purchase_and_other_types_break_nothing():
    assert broken() == []
    assert broken("page_view", {"amount": "x"}) == [], "the purchase rules apply to purchases only"


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({"amount": "5", "currency": "EUR"}, 'purchase amount is a number (got "5")'),
        ({"amount": True, "currency": "EUR"}, "purchase amount is a number (got true)"),
        ({"currency": "EUR"}, "purchase amount is a number (got <missing>)"),
        ({"amount": -0.5, "currency": "EUR"}, "purchase amount >= 0 (got -0.5)"),
        ({"amount": 5, "currency": "XXX"}, "purchase currency known (got XXX)"),
        ({"amount": 5, "currency": 7}, "purchase currency known (got 7)"),
    ],
)
def test_each_purchase_rule_names_itself_and_what_it_found(properties: dict, problem: str):
    assert broken(properties=properties) == [f"purchase_expectations: {problem}"]


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (timedelta(hours=1), True),
        (timedelta(hours=1, seconds=1), False),
        (-timedelta(days=30), True),
        (-timedelta(days=30, seconds=1), False),
    ],
)
def test_the_time_window_is_the_ingestion_service_s_around_the_receive_time(offset: timedelta, ok: bool):
    problems = broken("page_view", {}, offset)
    assert (problems == []) is ok
    if not ok:
        assert problems[0].startswith("envelope_expectations: timestamp within window")


def test_purchase_fields_read_dicts_and_json_text_alike():
    assert purchase_fields({"amount": 2, "currency": "EUR"}) == purchase_fields(
        '{"amount": 2, "currency": "EUR"}'
    )
    assert purchase_fields("not json")[1] == "<properties not a JSON object>"
