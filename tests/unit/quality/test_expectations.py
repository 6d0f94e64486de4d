"""The GX suites: good rows pass, and each expectation catches its own bad row and names it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from analytics_pipeline.events.quality_rules import DEFAULT_CURRENCIES
from quality.expectations import (
    SuiteOutcome,
    bronze_suite_outcome,
    envelope_suite_outcome,
    purchase_suite_outcome,
    purchases,
)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
MAX_AGE = timedelta(days=7)
MAX_FUTURE = timedelta(minutes=5)


def event(index: int = 0, **changes: object) -> dict[str, object]:
    """A validated-events row as the lakehouse holds it."""
    row: dict[str, object] = {
        "projectId": "shop",
        "eventDate": date(2026, 11, 26),
        "eventId": f"evt-{index}",
        "eventType": "page_view",
        "userId": f"user-{index % 3}",
        "timestamp": NOW - timedelta(hours=index),
        "receivedAt": NOW,
        "properties": json.dumps({"path": "/"}),
        "context": None,
        "topic": "events.shop",
        "partition": 0,
        "offset": index,
        "batchId": "batch-1",
        "validatedAt": NOW,
    }
    return row | changes


def purchase(index: int = 0, **properties: object) -> dict[str, object]:
    sent = {"amount": 19.99, "currency": "EUR"} | properties
    return event(index, eventType="purchase", properties=json.dumps(sent))


def without(index: int, key: str) -> dict[str, object]:
    sent = {"amount": 19.99, "currency": "EUR"}
    del sent[key]
    return event(index, eventType="purchase", properties=json.dumps(sent))


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows))
    for column in ("timestamp", "receivedAt", "validatedAt", "kafkaTimestamp", "ingestedAt"):
        if column in df:
            df[column] = pd.to_datetime(df[column], utc=True)
    return df


def good_events(count: int = 4) -> list[dict[str, object]]:
    return [event(index) for index in range(count)]


def record(offset: int = 0, **changes: object) -> dict[str, object]:
    """A bronze row: the Kafka record as it was read."""
    row: dict[str, object] = {
        "topic": "events.shop",
        "partition": 0,
        "offset": offset,
        "key": f"user-{offset}",
        "value": json.dumps({"eventId": f"evt-{offset}"}),
        "kafkaTimestamp": NOW,
        "projectId": "shop",
        "eventDate": date(2026, 11, 26),
        "receivedAt": NOW,
        "batchId": "batch-1",
        "ingestedAt": NOW,
    }
    return row | changes


def envelope(df: pd.DataFrame, **options: object) -> SuiteOutcome:
    return envelope_suite_outcome(df, max_age=MAX_AGE, max_future=MAX_FUTURE, **options)


def only_failure(outcome: SuiteOutcome, name: str, count: int) -> list[str]:
    """Asserts that exactly ``name`` failed, ``count`` times, and returns its sample."""
    assert not outcome.success
    assert [failed.name for failed in outcome.failed()] == [name]
    (failed,) = outcome.failed()
    assert failed.unexpected_count == count
    return failed.unexpected_sample


class TestEnvelopeSuite:
    def test_good_rows_pass_every_expectation(self):
        outcome = envelope(frame(*good_events()))

        assert outcome.success
        assert outcome.rows == 4
        assert len(outcome.outcomes) == 7
        assert all(o.element_count == 4 and o.unexpected_count == 0 for o in outcome.outcomes)

    def test_a_duplicate_event_id_counts_both_rows(self):
        outcome = envelope(frame(*good_events(), event(9, eventId="dup"), event(10, eventId="dup")))

        (sample,) = set(only_failure(outcome, "eventId unique per project", 2))
        assert "dup" in sample
        assert "shop" in sample

    def test_one_event_id_in_two_projects_is_two_events(self):
        outcome = envelope(
            frame(*good_events(), event(9, eventId="same"), event(10, eventId="same", projectId="blog"))
        )

        assert outcome.success

    def test_a_missing_event_id_fails_only_not_null(self):
        outcome = envelope(frame(*good_events(), event(9, eventId=None)))

        assert only_failure(outcome, "eventId not null", 1) == ["null"]

    @pytest.mark.parametrize("event_id", ["bad id!", "trailing-newline\n", "x" * 129])
    def test_an_event_id_off_the_pattern_is_named(self, event_id: str):
        outcome = envelope(frame(*good_events(), event(9, eventId=event_id)))

        assert only_failure(outcome, "eventId matches pattern", 1) == [event_id]

    def test_a_registered_type_off_the_pattern_passes(self):
        rows = frame(*good_events(), event(9, eventType="Checkout.Done"))

        assert envelope(rows, registered_types=frozenset({"Checkout.Done"})).success
        sample = only_failure(envelope(rows), "eventType registered or matches pattern", 1)
        assert sample == ["Checkout.Done"]

    def test_registered_types_are_matched_literally(self):
        rows = frame(*good_events(), event(9, eventType="CheckoutXDone"))

        outcome = envelope(rows, registered_types=frozenset({"Checkout.Done"}))

        assert only_failure(outcome, "eventType registered or matches pattern", 1) == ["CheckoutXDone"]

    @pytest.mark.parametrize(
        ("user_id", "name", "shown"), [(None, "userId not null", "null"), ("", "userId not empty", '""')]
    )
    def test_a_user_id_must_be_present_and_not_empty(self, user_id: str | None, name: str, shown: str):
        outcome = envelope(frame(*good_events(), event(9, userId=user_id)))

        assert only_failure(outcome, name, 1) == [shown]

    @pytest.mark.parametrize("offset", [-timedelta(days=10), timedelta(minutes=6)])
    def test_a_timestamp_outside_the_window_of_its_receive_time_fails(self, offset: timedelta):
        outcome = envelope(frame(*good_events(), event(9, timestamp=NOW + offset)))

        assert only_failure(outcome, "timestamp within window", 1) == [str(offset.total_seconds())]

    def test_the_window_edges_are_inside(self):
        edges = [event(8, timestamp=NOW - MAX_AGE), event(9, timestamp=NOW + MAX_FUTURE)]

        assert envelope(frame(*good_events(), *edges)).success

    def test_an_event_read_long_after_it_was_received_is_judged_by_its_receive_time(self):
        received = NOW - timedelta(days=40)
        late = event(9, timestamp=received - timedelta(days=1), receivedAt=received)

        assert envelope(frame(*good_events(), late)).success

    def test_naive_timestamps_are_read_as_utc(self):
        rows = frame(*good_events(), event(9, timestamp=NOW - timedelta(days=10)))
        rows["timestamp"] = rows["timestamp"].dt.tz_localize(None)

        assert only_failure(envelope(rows), "timestamp within window", 1)

    def test_a_missing_column_is_named(self):
        with pytest.raises(ValueError, match=r"\['userId'\]"):
            envelope(frame(*good_events()).drop(columns="userId"))


class TestPurchaseSuite:
    def test_good_purchases_pass_and_other_events_are_not_counted(self):
        outcome = purchase_suite_outcome(
            frame(*good_events(), purchase(7), purchase(8, amount=0, currency="USD")),
            currencies=DEFAULT_CURRENCIES,
        )

        assert outcome.success
        assert outcome.rows == 2
        assert all(o.element_count == 2 and o.unexpected_count == 0 for o in outcome.outcomes)

    @pytest.mark.parametrize(
        ("bad", "name", "shown"),
        [
            (purchase(9, amount=-1), "purchase amount >= 0", "-1.0"),
            (purchase(9, amount="ten"), "purchase amount is a number", '"ten"'),
            (without(9, "amount"), "purchase amount is a number", "<missing>"),
            (purchase(9, amount=None), "purchase amount is a number", "null"),
            (purchase(9, amount=True), "purchase amount is a number", "true"),
            (purchase(9, currency="XXX"), "purchase currency known", "XXX"),
            (without(9, "currency"), "purchase currency known", "<missing>"),
            (purchase(9, currency=978), "purchase currency known", "978"),
        ],
    )
    def test_each_bad_purchase_fails_its_own_expectation(self, bad: dict[str, object], name: str, shown: str):
        outcome = purchase_suite_outcome(frame(purchase(1), bad), currencies=DEFAULT_CURRENCIES)

        assert only_failure(outcome, name, 1) == [shown]

    @pytest.mark.parametrize(
        "text", ['{"amount": 1e999, "currency": "EUR"}', '{"amount": 1' + "0" * 400 + "}"]
    )
    def test_amounts_beyond_float_range_are_not_numbers(self, text: str):
        outcome = purchase_suite_outcome(
            frame(event(9, eventType="purchase", properties=text)), currencies=DEFAULT_CURRENCIES
        )

        assert "purchase amount is a number" in [failed.name for failed in outcome.failed()]

    @pytest.mark.parametrize("properties", ["not json", "[1, 2]", None])
    def test_properties_that_are_not_an_object_count_as_unexpected(self, properties: str | None):
        outcome = purchase_suite_outcome(
            frame(event(9, eventType="purchase", properties=properties)), currencies=DEFAULT_CURRENCIES
        )

        assert [failed.name for failed in outcome.failed()] == [
            "purchase amount is a number",
            "purchase currency known",
        ]

    def test_no_purchase_rows_pass_with_nothing_counted(self):
        outcome = purchase_suite_outcome(frame(*good_events()), currencies=DEFAULT_CURRENCIES)

        assert outcome.success
        assert outcome.rows == 0
        assert all(o.element_count == 0 for o in outcome.outcomes)

    def test_purchases_keep_only_purchase_rows(self):
        derived = purchases(frame(event(0), purchase(1, amount=5)))

        assert derived["amount"].tolist() == [5.0]
        assert derived["currency"].tolist() == ["EUR"]


class TestBronzeSuite:
    def test_good_records_pass(self):
        outcome = bronze_suite_outcome(frame(*(record(offset) for offset in range(4))))

        assert outcome.success
        assert all(o.element_count == 4 for o in outcome.outcomes)

    def test_a_repeated_kafka_position_counts_both_rows(self):
        outcome = bronze_suite_outcome(frame(record(0), record(1), record(1, key="other")))

        sample = only_failure(outcome, "kafka position unique", 2)
        assert sample == ["topic=events.shop, partition=0, offset=1"]

    @pytest.mark.parametrize("column", ["key", "value", "projectId"])
    def test_a_missing_field_fails_its_not_null(self, column: str):
        outcome = bronze_suite_outcome(frame(record(0), record(1, **{column: None})))

        assert only_failure(outcome, f"{column} not null", 1) == ["null"]


class TestEmptyFramesAndMetadata:
    @pytest.mark.parametrize("empty", [frame(event(0)).iloc[0:0], pd.DataFrame()])
    def test_empty_frames_pass_with_zero_counts(self, empty: pd.DataFrame):
        outcomes = [
            envelope(empty),
            purchase_suite_outcome(empty, currencies=DEFAULT_CURRENCIES),
            bronze_suite_outcome(empty),
        ]

        for outcome in outcomes:
            assert outcome.success
            assert outcome.rows == 0
            assert all(o.element_count == 0 and o.unexpected_count == 0 for o in outcome.outcomes)

    def test_metadata_is_flat_and_json_serialisable(self):
        outcome = envelope(frame(*good_events(), event(9, eventId="bad id!")))

        metadata = json.loads(json.dumps(outcome.as_metadata()))

        assert metadata["rows"] == 5
        assert metadata["failed"] == ["eventId matches pattern"]
        assert metadata["eventId matches pattern: unexpected"] == 1
        assert metadata["eventId matches pattern: sample"] == ["bad id!"]
        assert metadata["eventId unique per project: unexpected"] == 0
        assert all(not isinstance(value, dict) for value in metadata.values())

    def test_no_progress_bars_are_printed(self, capfd: pytest.CaptureFixture[str]):
        envelope(frame(*good_events()))

        assert capfd.readouterr().err == ""
